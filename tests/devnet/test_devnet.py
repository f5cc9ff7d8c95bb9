"""accord.dev.devnet: named chains with their own ids, independent state, forks, clean stops."""

from __future__ import annotations

import os

import pytest
from eth_account import Account

from accord.chain.client import Client
from accord.chain.accounts import dev_account
from accord.paths import devnet_spec
from accord.dev.devnet import Chain, Devnet, chain_alive, rpc
from accord.errors import ConfigError

ONE_ETHER = 10**18


def _balance(chain: Chain, address: str) -> int:
    return int(rpc(chain.rpc_url, "eth_getBalance", [address, "latest"]), 16)


def _send(chain: Chain, to: str, value: int) -> None:
    client = Client(chain.rpc_url)
    tx = {"to": to, "value": value, "gas": 21_000, "chainId": client.chain_id}
    client.send(tx, dev_account(0))


def test_each_devnet_chain_reports_its_configured_chain_id(chaina: Chain, chainb: Chain) -> None:
    assert chaina.chain_id == devnet_spec("chaina").chain_id
    assert chainb.chain_id == devnet_spec("chainb").chain_id
    assert chaina.chain_id != chainb.chain_id
    assert int(rpc(chaina.rpc_url, "eth_chainId"), 16) == chaina.chain_id
    assert int(rpc(chainb.rpc_url, "eth_chainId"), 16) == chainb.chain_id
    assert chaina.rpc_url.startswith("http://127.0.0.1:")


def test_devnet_chains_keep_independent_state(chaina: Chain, chainb: Chain) -> None:
    target = _fresh_address()
    before_b = _balance(chainb, target)
    before_a = _balance(chaina, target)
    _send(chaina, target, ONE_ETHER)
    assert _balance(chaina, target) == before_a + ONE_ETHER
    assert _balance(chainb, target) == before_b


def test_fork_sees_upstream_state_and_its_writes_stay_local(
    chaina: Chain, fresh_devnet: Devnet
) -> None:
    target = _fresh_address()
    _send(chaina, target, 3 * ONE_ETHER)
    upstream_balance = _balance(chaina, target)

    fork = fresh_devnet.fork(chaina)
    assert fork.chain_id == chaina.chain_id
    assert _balance(fork, target) == upstream_balance

    _send(fork, target, 5 * ONE_ETHER)
    assert _balance(fork, target) == upstream_balance + 5 * ONE_ETHER
    assert _balance(chaina, target) == upstream_balance


def test_fork_at_a_past_block_sees_the_state_of_that_block(
    chaina: Chain, fresh_devnet: Devnet
) -> None:
    target = _fresh_address()
    block = int(rpc(chaina.rpc_url, "eth_blockNumber"), 16)
    then = _balance(chaina, target)
    _send(chaina, target, ONE_ETHER)
    fork = fresh_devnet.fork(chaina, block=block)
    assert _balance(fork, target) == then


def test_stopping_a_devnet_leaves_no_anvil_process(tmp_path) -> None:
    with Devnet(log_dir=tmp_path) as net:
        chains = [net.start("chaina"), net.start("chainb")]
        assert all(chain_alive(c) for c in chains)
    for chain in chains:
        assert not os.path.exists(f"/proc/{chain.pid}") or _zombie_or_gone(chain.pid)


def test_a_failing_block_still_stops_every_chain(tmp_path) -> None:
    started: list[Chain] = []
    with pytest.raises(RuntimeError, match="boom"):
        with Devnet(log_dir=tmp_path) as net:
            started.append(net.start("chaina"))
            raise RuntimeError("boom")
    assert started and _zombie_or_gone(started[0].pid)


def test_unknown_chain_name_is_a_config_error_naming_the_known_ones(tmp_path) -> None:
    with Devnet(log_dir=tmp_path) as net, pytest.raises(ConfigError, match="chaina"):
        net.start("nosuchchain")


def _fresh_address() -> str:
    """An address no devnet funds (anvil re-funds its dev accounts on a fork)."""
    return Account.create().address


def _zombie_or_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
