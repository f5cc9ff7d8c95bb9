"""The peers measured by bench/b_peers.py really verify their attestations: a forged
validator signature (Hyperlane) or DVN signature (LayerZero v2) makes the receive revert.
Deployed from their published production bytecode in bench/peers/node_modules."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from accord.chain.client import Client
from accord.chain.accounts import dev_account
from accord.dev.devnet import Chain, Devnet
from bench import b_peers
from bench.common import BenchContext

needs_peers = pytest.mark.skipif(
    not b_peers.available(),
    reason="peers not installed: run bench/peers/setup.sh (npm ci in bench/peers)",
)

ADMIN, USER, RELAYER, FORGER = (dev_account(i) for i in (0, 1, 3, b_peers.FORGER_INDEX))


@pytest.fixture(scope="module")
def clients(chaina: Chain, chainb: Chain) -> tuple[Client, Client]:
    return Client(chaina.rpc_url), Client(chainb.rpc_url)


@pytest.fixture(scope="module")
def hyperlane(clients: tuple[Client, Client]) -> b_peers.HyperlaneRig:
    validators = [dev_account(i) for i in b_peers.VALIDATOR_INDEXES]
    return b_peers.deploy_hyperlane(*clients, ADMIN, validators)


@pytest.fixture(scope="module")
def layerzero(clients: tuple[Client, Client]) -> b_peers.LayerZeroRig:
    signers = [dev_account(i) for i in b_peers.DVN_SIGNER_INDEXES]
    return b_peers.deploy_layerzero(*clients, ADMIN, signers)


def _signers(rig: b_peers.HyperlaneRig) -> list[LocalAccount]:
    return rig.validators[:2]


@pytest.mark.slow
@needs_peers
def test_hyperlane_process_reverts_on_a_forged_validator_signature(
        hyperlane: b_peers.HyperlaneRig) -> None:
    _, message = b_peers.hyperlane_send(hyperlane, b"\x01" * 32, USER)
    revert = b_peers.hyperlane_forged_revert(hyperlane, message, RELAYER, FORGER)
    assert b"!threshold" in revert
    msg_id = b_peers.keccak(message)
    assert not hyperlane.dest_mailbox.functions.delivered(msg_id).call()
    # the same message with the real 2-of-3 signatures is delivered
    metadata = b_peers.hyperlane_metadata(hyperlane, message, _signers(hyperlane))
    b_peers.hyperlane_process(hyperlane, metadata, message, RELAYER)
    assert hyperlane.dest_mailbox.functions.delivered(msg_id).call()


@pytest.mark.slow
@needs_peers
def test_hyperlane_process_reverts_when_signatures_are_for_another_message(
        hyperlane: b_peers.HyperlaneRig) -> None:
    _, first = b_peers.hyperlane_send(hyperlane, b"\x02" * 32, USER)
    _, second = b_peers.hyperlane_send(hyperlane, b"\x03" * 256, USER)
    metadata = b_peers.hyperlane_metadata(hyperlane, first, _signers(hyperlane))
    revert = b_peers.reverts(hyperlane.dst, hyperlane.dest_mailbox.functions.process(
        metadata, second), RELAYER)
    assert b"!threshold" in revert


@pytest.mark.slow
@needs_peers
def test_layerzero_commit_reverts_when_a_dvn_signature_is_forged(
        layerzero: b_peers.LayerZeroRig) -> None:
    _, packet = b_peers.lz_send(layerzero, b"\x04" * 32, USER)
    b_peers.lz_dvn_verify(layerzero, packet, 0)
    revert = b_peers.lz_forged_revert(layerzero, packet, FORGER, RELAYER)
    assert revert[:4] == b_peers.LZ_ULN_VERIFYING
    # DVN 1's real signature completes the quorum of required DVNs: committed and delivered
    b_peers.lz_dvn_verify(layerzero, packet, 1)
    b_peers.lz_commit(layerzero, packet, RELAYER)
    b_peers.lz_receive(layerzero, packet, RELAYER)


@pytest.mark.slow
@needs_peers
def test_layerzero_commit_reverts_when_every_dvn_signature_is_forged(
        layerzero: b_peers.LayerZeroRig) -> None:
    _, packet = b_peers.lz_send(layerzero, b"\x05" * 256, USER)
    receipt = b_peers.lz_dvn_verify(layerzero, packet, 0, signer=FORGER)
    assert layerzero.dst_dvns[0].events.VerifySignaturesFailed().process_receipt(
        receipt, errors=b_peers.DISCARD)
    revert = b_peers.lz_forged_revert(layerzero, packet, FORGER, RELAYER)
    assert revert[:4] == b_peers.LZ_ULN_VERIFYING


@pytest.mark.slow
@needs_peers
def test_bench_reports_every_peer_figure(fresh_devnet: Devnet) -> None:
    chain = fresh_devnet.start("chaina")
    ctx = BenchContext(devnet=fresh_devnet, chain=chain, client=Client(chain.rpc_url))
    peers = b_peers.run(ctx)["peers"]
    for size in b_peers.SIZES:
        assert {f"send_{size}", f"receive_{size}"} <= set(peers["hyperlane"])
        lz = peers["layerzero"]
        assert lz[f"receive_{size}"] == (lz[f"verify_{size}"] + lz[f"commit_{size}"]
                                         + lz[f"execute_{size}"])
    assert b_peers.DEST_CHAIN not in fresh_devnet.chains  # its second chain was stopped


def test_bench_returns_nothing_in_gas_only_mode(fresh_devnet: Devnet) -> None:
    ctx = BenchContext(devnet=fresh_devnet, chain=None, client=None,  # type: ignore[arg-type]
                       gas_only=True)
    assert b_peers.run(ctx) == {}
