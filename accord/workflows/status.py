"""A run's steps as rows (state, agent, lease, attempts, result, votes), for
``accord workflow status`` and ``accord workflow watch``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from accord.chain.client import Client
from accord.chain.results import find_results, verdict_tallies
from accord.chain.types import (
    DefinitionInfo,
    Lease,
    RunInfo,
    RunState,
    StepSpec,
    StepState,
    Tallies,
)
from accord.workflows import catalog
from accord.workflows.origin import Origin, origin_of

ZERO = "0x" + "00" * 20

log = logging.getLogger(__name__)


@dataclass
class StepRow:
    """One step of a run: data (``data()`` for --json) and its table cells (``cells()``)."""

    index: int
    name: str
    state: str
    agent_id: int | None  # the agent of the current or last attempt
    lease_end: int | None  # unix seconds, while Claimed
    lease_left_s: int | None
    attempts: int  # attempts made so far, the one in progress included
    max_attempts: int
    result: str | None  # the latest result hash, whole
    approvals: int
    rejections: int
    quorum: int

    @property
    def settled(self) -> bool:
        return self.state in _SETTLED_LABELS

    def cells(self) -> list[str]:
        # a settled step shows the attempts it took, not how many it may still have
        attempts = str(self.attempts) if self.settled else f"{self.attempts}/{self.max_attempts}"
        return [str(self.index), self.name, self.state,
                "-" if self.agent_id is None else str(self.agent_id),
                "-" if self.lease_left_s is None else f"{self.lease_left_s}s", attempts,
                self.result[:12] if self.result else "-",
                f"+{self.approvals} -{self.rejections} /{self.quorum}" if self.quorum else "-"]

    def data(self) -> dict[str, Any]:
        """Numbers as numbers, hashes whole, times as ISO 8601 (UTC)."""
        return {"index": self.index, "name": self.name, "state": self.state,
                "agent_id": self.agent_id,
                "lease_end": None if self.lease_end is None else iso_time(self.lease_end),
                "lease_left_s": self.lease_left_s, "attempts": self.attempts,
                "max_attempts": self.max_attempts, "result": self.result,
                "approvals": self.approvals, "rejections": self.rejections,
                "quorum": self.quorum}


HEADERS = ["#", "step", "state", "agent", "lease left", "attempts", "result", "votes"]
_SETTLED_LABELS = frozenset(s.label for s in (StepState.DONE, StepState.FAILED, StepState.SKIPPED))
# the attempt counter counts failed attempts; these states have one more under way or Done
_ONE_MORE = frozenset({StepState.CLAIMED, StepState.SUBMITTED, StepState.DISPATCHED,
                       StepState.DONE})


def iso_time(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


@dataclass
class RunSnapshot:
    run_id: int
    state: str
    definition_id: bytes
    escrow: int
    rows: list[StepRow]

    @property
    def finished(self) -> bool:
        return self.state not in (RunState.RUNNING.label, RunState.PAUSED.label)

    @property
    def skipped(self) -> int:
        """Steps that will not run: a decision did not select them, or (in turn) the inputs
        their join needs can no longer all be Done."""
        return sum(r.state == StepState.SKIPPED.label for r in self.rows)

    @property
    def summary(self) -> str:
        """The run's state, saying how much of it decisions skipped: a run whose decisions
        selected little completes having done little, e.g.
        ``Completed (4 of 6 steps skipped by decisions)``."""
        if not self.skipped:
            return self.state
        return f"{self.state} ({self.skipped} of {len(self.rows)} steps skipped by decisions)"


def snapshot(client: Client, coordinator: str, run_id: int,
             names_root: Path | None = None) -> RunSnapshot:
    """Read a run and every step (a few calls per step; definitions have <= 64 steps).
    ``names_root``: where step names are recorded [default: the state dir's workflows/]."""
    from accord.errors import ConfigError

    c = client.contract("WorkflowCoordinator", coordinator).functions
    try:
        info = RunInfo.from_abi(c.runInfo(run_id).call())
    except Exception as exc:  # web3 wraps the revert; decode it
        data = getattr(exc, "data", None)
        if isinstance(data, str):
            from accord.chain.client import decode_revert

            rev = decode_revert(data)
            if rev.name == "CoordinatorUnknownRun":
                raise ConfigError(f"run {run_id} does not exist on this coordinator; list "
                                  "runs with their RunStarted events or start one with "
                                  "'accord workflow start'") from None
            raise rev from None
        raise
    def_id = info.definitionId
    count = DefinitionInfo.from_abi(c.definitionInfo(def_id).call()).stepCount
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    names = catalog.names(def_id, count, names_root)
    origin = _origin(client, coordinator, run_id, info.creator)
    if origin is not None:  # a remote step's run: its home step's name
        names[0] = origin.name
    results = find_results(client.w3, coordinator, run_id, list(range(count)))
    states = [StepState(int(c.stepState(run_id, i).call())) for i in range(count)]
    leases = [Lease.from_abi(c.lease(run_id, i).call()) for i in range(count)]
    decided = {i: leases[i].attempt for i in range(count) if states[i] is StepState.DONE}
    verdicts = verdict_tallies(client.w3, coordinator, run_id, decided) if decided else {}
    rows: list[StepRow] = []
    for i in range(count):
        spec = StepSpec.from_abi(c.definitionStep(def_id, i).call())
        state, lease = states[i], leases[i]
        rhash = results[i].resultHash if i in results else b"\x00" * 32
        votes = Tallies.from_abi(c.tallies(run_id, i).call())
        if i in verdicts:  # decided: the tallies of its verdict, from the events
            votes = Tallies(*verdicts[i])
        claimed = lease.operator != ZERO
        live = state is StepState.CLAIMED
        rows.append(StepRow(
            index=i, name=names[i], state=state.label,
            agent_id=lease.agentId if claimed else None,
            lease_end=lease.leaseEnd if live else None,
            lease_left_s=max(0, lease.leaseEnd - now) if live else None,
            attempts=lease.attempt + (1 if state in _ONE_MORE else 0),
            max_attempts=spec.maxAttempts,
            result="0x" + rhash.hex() if any(rhash) else None,
            approvals=votes.approvals, rejections=votes.rejections, quorum=spec.quorum,
        ))
    return RunSnapshot(run_id, info.state.label, def_id, info.escrow, rows)


def _origin(client: Client, coordinator: str, run_id: int, creator: str) -> Origin | None:
    """The home end of a run the RemoteStepRouter opened; None for other runs, and when the
    router's logs cannot be read (a provider that limits eth_getLogs ranges): names only."""
    try:
        return origin_of(client, coordinator, run_id, creator)
    except Exception as exc:  # noqa: BLE001 - cosmetic: the status itself must still show
        log.debug("origin of run %d: %s", run_id, exc)
        return None


def render_text(snap: RunSnapshot) -> list[str]:
    table = [HEADERS] + [r.cells() for r in snap.rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADERS))]
    lines = [f"run {snap.run_id}: {snap.summary} (definition 0x{snap.definition_id.hex()[:12]}…, "
             f"escrow {snap.escrow} wei)"]
    for row in table:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return lines


_COLOURS = {StepState.DONE: "green", StepState.CLAIMED: "yellow", StepState.SUBMITTED: "cyan",
            StepState.READY: "blue", StepState.DISPATCHED: "cyan", StepState.FAILED: "red",
            StepState.BACKOFF: "magenta", StepState.SKIPPED: "dim", StepState.CANCELLED: "dim"}


def render_rich(snap: RunSnapshot) -> Any:
    from rich.table import Table

    colours = {s.label: c for s, c in _COLOURS.items()}
    table = Table(title=f"run {snap.run_id}: {snap.summary}", title_justify="left")
    for h in HEADERS:
        table.add_column(h)
    for r in snap.rows:
        cells = r.cells()
        colour = colours.get(r.state)
        if colour:
            cells[2] = f"[{colour}]{cells[2]}[/{colour}]"
        table.add_row(*cells)
    return table
