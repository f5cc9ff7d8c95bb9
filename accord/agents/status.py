"""A run's steps as rows (state, agent, lease, attempts, result, votes), for
``accord workflow status`` and ``accord workflow watch``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.agents import catalog
from accord.chain import Client

RUN_STATES = ["None", "Running", "Paused", "Completed", "Failed", "Cancelled"]
STEP_STATES = ["Blocked", "Ready", "Claimed", "Submitted", "Backoff", "Done", "Failed",
               "Skipped", "Cancelled", "Dispatched"]
ZERO = "0x" + "00" * 20


@dataclass
class StepRow:
    index: int
    name: str
    state: str
    agent: str
    lease_left: str
    attempts: str
    result: str
    votes: str

    def cells(self) -> list[str]:
        return [str(self.index), self.name, self.state, self.agent, self.lease_left,
                self.attempts, self.result, self.votes]


HEADERS = ["#", "step", "state", "agent", "lease left", "attempts", "result", "votes"]


@dataclass
class RunSnapshot:
    run_id: int
    state: str
    definition_id: bytes
    escrow: int
    rows: list[StepRow]

    @property
    def finished(self) -> bool:
        return self.state not in ("Running", "Paused")


def snapshot(client: Client, coordinator: str, run_id: int,
             names_root: Path | None = None) -> RunSnapshot:
    """Read a run and every step (a few calls per step; definitions have <= 64 steps).
    ``names_root``: where step names are recorded [default: the state dir's workflows/]."""
    from accord.errors import ConfigError

    c = client.contract("WorkflowCoordinator", coordinator).functions
    try:
        info = c.runInfo(run_id).call()
    except Exception as exc:  # web3 wraps the revert; decode it
        data = getattr(exc, "data", None)
        if isinstance(data, str):
            from accord.chain import decode_revert

            rev = decode_revert(data)
            if rev.name == "CoordinatorUnknownRun":
                raise ConfigError(f"run {run_id} does not exist on this coordinator; list "
                                  "runs with their RunStarted events or start one with "
                                  "'accord workflow start'") from None
            raise rev from None
        raise
    def_id = bytes(info[0])
    count, _, _, _, _, _ = c.definitionInfo(def_id).call()
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    names = catalog.names(def_id, count, names_root)
    rows: list[StepRow] = []
    for i in range(count):
        spec: Any = c.definitionStep(def_id, i).call()
        state = STEP_STATES[int(c.stepState(run_id, i).call())]
        agent_id, operator, lease_end, attempt = c.lease(run_id, i).call()
        rhash, _ = c.result(run_id, i).call()
        approvals, rejections = c.tallies(run_id, i).call()
        quorum = int(spec[8])
        claimed = operator != ZERO
        rows.append(StepRow(
            index=i, name=names[i], state=state,
            agent=str(agent_id) if claimed else "-",
            lease_left=f"{max(0, lease_end - now)}s" if state == "Claimed" else "-",
            attempts=f"{attempt}/{spec[4]}",
            result=("0x" + bytes(rhash).hex()[:10]) if any(rhash) else "-",
            votes=f"+{approvals} -{rejections} /{quorum}" if quorum else "-",
        ))
    return RunSnapshot(run_id, RUN_STATES[int(info[2])], def_id, int(info[3]), rows)


def render_text(snap: RunSnapshot) -> list[str]:
    table = [HEADERS] + [r.cells() for r in snap.rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADERS))]
    lines = [f"run {snap.run_id}: {snap.state} (definition 0x{snap.definition_id.hex()[:12]}…, "
             f"escrow {snap.escrow} wei)"]
    for row in table:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return lines


def render_rich(snap: RunSnapshot) -> Any:
    from rich.table import Table

    colours = {"Done": "green", "Claimed": "yellow", "Submitted": "cyan", "Ready": "blue",
               "Dispatched": "cyan",
               "Failed": "red", "Backoff": "magenta", "Skipped": "dim", "Cancelled": "dim"}
    table = Table(title=f"run {snap.run_id}: {snap.state}", title_justify="left")
    for h in HEADERS:
        table.add_column(h)
    for r in snap.rows:
        cells = r.cells()
        colour = colours.get(r.state)
        if colour:
            cells[2] = f"[{colour}]{cells[2]}[/{colour}]"
        table.add_row(*cells)
    return table
