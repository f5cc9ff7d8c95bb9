"""A node restarted under running services: the destination anvil, then the origin anvil, is
sealed (nothing left being mined), stopped (SIGTERM: it dumps its state) and started again on
the same port from that state (``anvil --state``) while validators and the relayer run as
processes. They reconnect on their own and every message (also those sent while the
destination was down) is delivered exactly once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from faults_support import (
    delivery_figures,
    gateway_statuses,
    record,
    sent_ids,
    start_relayer,
    start_validator,
    two_chains,
    wait_until,
)

from accord.dev.devnet import Chain, Devnet, rpc
from accord.dev.supervisor import Supervisor

ROUND = 150
OUTAGE_S = 4.5  # longer than the retries inside one call: the services' loops must back off
SEAL_TIMEOUT_S = 60.0
RPC_TIMEOUT_S = 30.0  # one call to a node on a busy machine


def _seal(chain: Chain) -> None:
    """Leave ``chain`` with no block being mined, so the state anvil dumps on SIGTERM is whole.

    anvil (1.7) keeps mining while it dumps, and the dump reads the chain's blocks before its
    accounts: a block mined in between is dumped as state without its block. A relayer still
    delivering when the test stops the destination (a busy machine) then leaves a batch whose
    effects survive the restart (the recipient's counter, the gateway's status) but not its
    Received logs: "lost" 50. A node's clean shutdown keeps a whole chain, so this makes
    anvil's one: automine off (a transaction sent from now on waits in the pool and dies with
    the process: the services must send it again), then mine until the pool is empty (a
    transaction leaves the pool only once the block that includes it is sealed, and evm_mine
    waits for a block being mined)."""
    rpc(chain.rpc_url, "evm_setAutomine", [False], timeout=RPC_TIMEOUT_S)
    deadline = time.monotonic() + SEAL_TIMEOUT_S
    while int(rpc(chain.rpc_url, "txpool_status", timeout=RPC_TIMEOUT_S)["pending"], 16):
        assert time.monotonic() < deadline, f"{chain.name} still has pending transactions"
        rpc(chain.rpc_url, "evm_mine", timeout=RPC_TIMEOUT_S)


def _restart(net: Devnet, name: str, state: Path, while_down: Any = None,
             felt: Any = None) -> Chain:
    """Seal ``name`` and stop it by its pid (anvil writes ``state`` on SIGTERM), keep it down
    for at least OUTAGE_S and until ``felt()`` says a service noticed (a busy machine may take
    longer to get there), and start it again on the same port and chain id from that state."""
    old = net.chains[name]
    _seal(old)
    net.stop(name)
    assert state.is_file()
    if while_down is not None:
        while_down()
    time.sleep(OUTAGE_S)
    if felt is not None:
        wait_until(felt, 120, f"a service to notice {name} is down", lambda: "")
    new = net.start(name, chain_id=old.chain_id, port=old.port,
                    extra_args=["--state", str(state)])
    assert new.rpc_url == old.rpc_url
    return new


def test_relay_completes_exactly_once_across_destination_and_origin_anvil_restarts(
        fresh_devnet: Devnet, services: Supervisor, tmp_path: Path) -> None:
    states = {n: tmp_path / f"{n}-state.json" for n in ("chaina", "chainb")}
    for name, state in states.items():
        fresh_devnet.start(name, extra_args=["--state", str(state)])
    tc: Any = two_chains(fresh_devnet.chains["chaina"], fresh_devnet.chains["chainb"])
    store = str(tmp_path / "relay.sqlite")
    for i in range(2):
        start_validator(services, f"validator-{i}", tc.a.chain.rpc_url, tc.a.gateway, store,
                        5 + i)
    start_relayer(services, "relayer", tc.a.chain.rpc_url, tc.b.chain.rpc_url, tc.b.gateway,
                  store)

    def logs() -> str:
        return "\n".join(f"{n}: {services.log_tail(n, 3)}" for n in services.procs)

    def delivered_at_least(n: int) -> None:
        wait_until(lambda: tc.delivered_total(tc.b) >= n, 90, f"{n} deliveries", logs)

    tc.send(tc.a, tc.b, ROUND, tag=1)
    delivered_at_least(50)
    # Destination down: the relayer's calls fail; messages keep coming and get signed.
    relayer_log = tmp_path / "logs" / "relayer.log"
    _restart(fresh_devnet, "chainb", states["chainb"],
             while_down=lambda: tc.send(tc.a, tc.b, ROUND, tag=2),
             felt=lambda: any(w in relayer_log.read_text() for w in ("step failed", "retrying")))
    delivered_at_least(2 * ROUND)
    # Origin restarted: the validators reconnect and resume from their cursors.
    validator_log = tmp_path / "logs" / "validator-0.log"
    _restart(fresh_devnet, "chaina", states["chaina"],
             felt=lambda: "poll failed" in validator_log.read_text())
    tc.send(tc.a, tc.b, ROUND, tag=3)
    delivered_at_least(3 * ROUND)
    assert all(services.alive(n) for n in services.procs), logs()
    services.stop_all()
    # Both outages were felt (and survived): the relayer's and the validators' loops failed.
    assert any(w in relayer_log.read_text() for w in ("step failed", "retrying"))
    assert "poll failed" in validator_log.read_text()

    fig = delivery_figures(tc.a, tc.b)
    assert fig == {"sent": 3 * ROUND, "delivered": 3 * ROUND, "lost": 0, "delivered_twice": 0,
                   "unknown": 0}
    assert gateway_statuses(tc.a, tc.b, sent_ids(tc.a)) == {1: 3 * ROUND}
    fig.pop("unknown")
    record("anvil_restart_destination_then_origin", **fig, restarts=2)
