"""Why a remote workflow step is not moving, in one line each, with the command that fixes it.

A step that runs on another chain waits on things no single chain shows: somebody must
dispatch it (``accord keep`` on its home chain), validators and relayers must carry the task
over, the run creator's deposit on the remote ``RemoteStepRouter`` must cover the reward, a
keeper there must open the task, and the result must come back the same way. Everything here
is read from the chains; ``accord doctor`` and ``accord workflow status`` print it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accord.chain.client import Client
from accord.chain.types import (
    DefinitionInfo,
    Request,
    RequestState,
    RunInfo,
    StepSpec,
    StepState,
)


@dataclass
class Side:
    """One chain's deployment as the diagnosis needs it."""

    name: str
    client: Client
    coordinator: str
    router: str | None
    from_block: int = 0

    def coord(self) -> Any:
        return self.client.contract("WorkflowCoordinator", self.coordinator)

    def routr(self) -> Any:
        assert self.router is not None
        return self.client.contract("RemoteStepRouter", self.router)


def _eth(wei: int) -> str:
    return f"{wei / 10**18:.6g}ether"


def unfunded_line(side: Side, rid: bytes, req: Request) -> str:
    """The shortfall of an Unfunded request on ``side``'s router, and the command to pay it."""
    have = int(side.routr().functions.depositOf(req.creator).call())
    missing = max(req.reward - have, 0)
    return (f"task 0x{rid.hex()[:12]}… (home chain {req.homeChainId} run {req.homeRunId} step "
            f"{req.step}) waits on {side.name} for its creator's deposit: {req.creator} has "
            f"{have} wei on router {side.router}, the task needs {req.reward} ({missing} wei "
            f"missing); run 'accord router deposit --network {side.name} --creator "
            f"{req.creator} --amount {_eth(missing) if missing else '0'}' and keep "
            f"'accord keep --network {side.name}' running to open it")


def step_reasons(home: Side, run_id: int, others: list[Side]) -> list[tuple[int, str]]:
    """(step, why) for every remote step of ``run_id`` that is Ready or Dispatched.

    ``others``: the deployments of the chains its remote steps run on (a chain not among
    them is named by id and the reason says which --network to add)."""
    c = home.coord().functions
    info = RunInfo.from_abi(c.runInfo(run_id).call())
    if not info.state.active:
        return []
    here = home.client.chain_id
    count = DefinitionInfo.from_abi(c.definitionInfo(info.definitionId).call()).stepCount
    by_id = {o.client.chain_id: o for o in others}
    out: list[tuple[int, str]] = []
    for i in range(count):
        spec = StepSpec.from_abi(c.definitionStep(info.definitionId, i).call())
        if spec.chainId in (0, here):
            continue
        state = StepState(int(c.stepState(run_id, i).call()))
        remote = by_id.get(spec.chainId)
        where = remote.name if remote else f"chain {spec.chainId}"
        if state is StepState.READY:
            out.append((i, f"step {i} runs on {where} and is Ready: nobody has dispatched it; "
                        f"run 'accord keep --network {home.name} --network {where}' (anyone "
                        "may)"))
        elif state is StepState.DISPATCHED:
            out.append((i, _dispatched_reason(home, run_id, i, spec.chainId, remote)))
    return out


def _dispatched_reason(home: Side, run_id: int, step: int, chain_id: int,
                       remote: Side | None) -> str:
    attempt = 0
    message = "?"
    if home.router:
        sent = home.routr().events.TaskSent().get_logs(
            from_block=home.from_block, argument_filters={"runId": run_id, "step": step})
        if sent:
            attempt = int(sent[-1]["args"]["attempt"])
            message = "0x" + bytes(sent[-1]["args"]["messageId"]).hex()
    if remote is None or remote.router is None:
        return (f"step {step} is Dispatched to chain {chain_id} (task message {message}); add "
                "that chain's --network to see where it waits")
    rid = bytes(remote.routr().functions.requestIdOf(
        home.client.chain_id, home.coordinator, run_id, step, attempt).call())
    req = Request.from_abi(remote.routr().functions.request(rid).call())
    if req.state is RequestState.NONE:
        return (f"step {step} is Dispatched, but its task message {message} has not reached "
                f"{remote.name}: run validators on {home.name} ('accord validate --chain "
                f"{home.name} ...') and a relayer ('accord relay --from {home.name} --to "
                f"{remote.name} ...'); 'accord message status {message}' shows where it is")
    if req.state is RequestState.UNFUNDED:
        return f"step {step} is Dispatched: its " + unfunded_line(remote, rid, req)
    if req.state is RequestState.OPEN:
        remote_run = RunInfo.from_abi(remote.coord().functions.runInfo(req.remoteRunId).call())
        if remote_run.state.active:
            return (f"step {step} is Dispatched and runs as run {req.remoteRunId} on "
                    f"{remote.name} ({remote_run.state.label}): agents there with its role "
                    f"must claim it ('accord workflow status {req.remoteRunId} --network "
                    f"{remote.name}')")
        return (f"step {step} is Dispatched; its run {req.remoteRunId} on {remote.name} ended "
                f"{remote_run.state.label} but nobody reported it home: run 'accord keep "
                f"--network {remote.name}'")
    return (f"step {step} is Dispatched; {remote.name} sent its result home, not yet "
            f"delivered: run validators on {remote.name} and 'accord relay --from "
            f"{remote.name} --to {home.name} ...'")


def unfunded_requests(side: Side) -> list[str]:
    """A line for every task on ``side``'s router that waits for its creator's deposit and
    can still open (its deadline has not passed)."""
    if side.router is None:
        return []
    router = side.routr()
    now = int(side.client.w3.eth.get_block("latest")["timestamp"])
    out = []
    seen: set[bytes] = set()
    for ev in router.events.TaskReceived().get_logs(from_block=side.from_block):
        rid = bytes(ev["args"]["requestId"])
        if rid in seen:
            continue
        seen.add(rid)
        req = Request.from_abi(router.functions.request(rid).call())
        if req.state is RequestState.UNFUNDED and now < req.deadline:
            out.append(unfunded_line(side, rid, req))
    return out


def active_runs(side: Side) -> list[int]:
    """Runs of ``side``'s coordinator that are still Running or Paused."""
    coord = side.coord()
    runs = sorted({int(ev["args"]["runId"]) for ev in coord.events.RunStarted().get_logs(
        from_block=side.from_block)})
    return [r for r in runs
            if RunInfo.from_abi(coord.functions.runInfo(r).call()).state.active]


def stuck_lines(sides: list[Side]) -> list[tuple[str, str]]:
    """(network, why) for every remote step not moving on any of ``sides``, and every task
    waiting for a deposit there (a deposit short on a chain shows on that chain)."""
    out: list[tuple[str, str]] = []
    for home in sides:
        others = [s for s in sides if s is not home]
        for run_id in active_runs(home):
            for _, why in step_reasons(home, run_id, others):
                if "waits on" in why and "deposit" in why:
                    continue  # said once, on the remote side, below
                out.append((home.name, f"run {run_id} {why}"))
        out += [(home.name, line) for line in unfunded_requests(home)]
    return out


def side_of(name: str, client: Client, manifest: dict[str, Any]) -> Side | None:
    """A Side from a deployment manifest (None without a coordinator)."""
    contracts = manifest.get("contracts") or {}
    coord = contracts.get("coordinator")
    if not isinstance(coord, dict):
        return None
    router = contracts.get("router")
    return Side(name, client, str(coord["address"]),
                str(router["address"]) if isinstance(router, dict) else None,
                int(coord.get("block", 0) or 0))


def deployed_sides(exclude: str) -> list[Side]:
    """Every other network with a deployment manifest whose node answers with its chain id
    (what ``accord workflow status`` can look at without being told)."""
    from accord.deploy import context

    out = []
    for name in context.known_networks():
        if name == exclude:
            continue
        try:
            manifest = context.deployment(name)
            client = Client(context.rpc_url(name), timeout=3, connect_attempts=1)
            if int(manifest.get("chain_id", client.chain_id)) != client.chain_id:
                continue
        except Exception:  # noqa: S112 - no manifest, or a node that does not answer: skip it
            continue
        side = side_of(name, client, manifest)
        if side is not None:
            out.append(side)
    return out


def run_lines(client: Client, network: str, coordinator: str, run_id: int) -> list[str]:
    """``accord workflow status``: why each remote step of ``run_id`` is not moving."""
    from accord.deploy import context

    router = (context.deployment(network).get("contracts") or {}).get("router")
    home = Side(network, client, coordinator,
                str(router["address"]) if isinstance(router, dict) else None)
    return [f"stuck: {why}" for _, why in step_reasons(home, run_id, deployed_sides(network))]
