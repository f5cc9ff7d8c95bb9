"""Where a remote step's run came from, and the home step's name it keeps on this chain.

A RemoteStepRouter opens a one-step run of its chain's coordinator for every TASK it
receives (see IRemoteStepRouter). That run's definition is shared by every task of the same
shape and knows its step only as index 0, so names come from the task instead: the router's
``TaskOpened`` names the request, the home run and the home step; ``TaskReceived`` (same
request id) names the home chain. The home step's name is the home definition's name in the
catalog (``accord workflow define`` records it) when a deployment manifest here names the
home chain; otherwise it is the home index, ``step<i>``, exactly as the home chain shows it
without a catalog. Only readers use this: names never reach a transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak

log = logging.getLogger(__name__)

TASK_OPENED = "0x" + keccak(text="TaskOpened(bytes32,uint256,uint8,uint256)").hex()
TASK_RECEIVED = "0x" + keccak(
    text="TaskReceived(bytes32,uint256,uint8,uint256,uint8,uint64)").hex()


@dataclass(frozen=True)
class Origin:
    """The home end of a remote run: chain, run and step (index and name)."""

    home_chain_id: int
    home_run_id: int
    step: int
    name: str


def _topic_int(topic: Any) -> int:
    return int(topic if isinstance(topic, str) else "0x" + bytes(topic).hex(), 16)


def _data(log_entry: dict[str, Any]) -> bytes:
    data = log_entry["data"]
    return bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)


def _topic_bytes(topic: Any) -> bytes:
    return bytes.fromhex(topic[2:]) if isinstance(topic, str) else bytes(topic)


class TaskIndex:
    """Remote run id -> (request id, home run, home step), and request id -> home chain id,
    from the router's logs; fed incrementally by :meth:`add` with raw ``eth_getLogs``
    entries of both events (any order, duplicates ignored)."""

    def __init__(self) -> None:
        self.opened: dict[int, tuple[bytes, int, int]] = {}
        self.home_chain: dict[bytes, int] = {}

    def add(self, entries: list[dict[str, Any]]) -> None:
        for e in entries:
            topics = e.get("topics") or []
            if len(topics) < 4:
                continue
            topic0 = "0x" + _topic_bytes(topics[0]).hex()
            request_id = _topic_bytes(topics[1])
            if topic0 == TASK_OPENED:
                (remote_run,) = abi_decode(["uint256"], _data(e))
                self.opened[int(remote_run)] = (request_id, _topic_int(topics[2]),
                                                _topic_int(topics[3]))
            elif topic0 == TASK_RECEIVED:
                home_chain, _, _ = abi_decode(["uint256", "uint8", "uint64"], _data(e))
                self.home_chain[request_id] = int(home_chain)

    def origin(self, remote_run_id: int) -> tuple[int, int, int] | None:
        """(home chain id, home run id, home step) of a run the router opened, if seen."""
        got = self.opened.get(remote_run_id)
        if got is None or got[0] not in self.home_chain:
            return None
        return self.home_chain[got[0]], got[1], got[2]


def log_filter(router: str, from_block: int, to_block: int | str) -> dict[str, Any]:
    """An ``eth_getLogs`` filter for both task events of ``router``."""
    return {"address": router, "topics": [[TASK_OPENED, TASK_RECEIVED]],
            "fromBlock": hex(from_block),
            "toBlock": to_block if isinstance(to_block, str) else hex(to_block)}


def home_step_name(home_chain_id: int, home_run_id: int, step: int) -> str:
    """The home step's name, read from the home chain named by a deployment manifest here;
    ``step<i>`` when no manifest names that chain or it cannot be read."""
    from accord.chain.client import Client
    from accord.chain.types import DefinitionInfo, RunInfo
    from accord.deploy import context
    from accord.workflows import catalog

    fallback = f"step{step}"
    for network in context.known_networks():
        try:
            manifest = context.deployment(network)
            if int(manifest.get("chain_id", -1)) != home_chain_id:
                continue
            coordinator = manifest["contracts"]["coordinator"]["address"]
            client = Client(context.rpc_url(network))
            c = client.contract("WorkflowCoordinator", coordinator).functions
            def_id = RunInfo.from_abi(c.runInfo(home_run_id).call()).definitionId
            count = DefinitionInfo.from_abi(c.definitionInfo(def_id).call()).stepCount
            names = catalog.names(def_id, count)
            return names[step] if step < len(names) else fallback
        except Exception as exc:  # noqa: BLE001 - a name is cosmetic: a manifest without a
            # coordinator, a node that is down or reverts all fall back to the index
            log.debug("home step name from %s: %s", network, exc)
    return fallback


def origin_of(client: Any, coordinator: str, run_id: int, creator: str,
              from_block: int = 0) -> Origin | None:
    """The origin of ``run_id`` (started by ``creator``) when the coordinator's router opened
    it (sync readers: ``workflow status``, the API); None for runs anyone else started."""
    router = client.contract("WorkflowCoordinator", coordinator).functions.router().call()
    if int(router, 16) == 0 or creator.lower() != router.lower():
        return None
    index = TaskIndex()
    index.add([dict(e) for e in client.w3.eth.get_logs(log_filter(router, from_block, "latest"))])
    found = index.origin(run_id)
    if found is None:
        return None
    return Origin(*found, home_step_name(*found))
