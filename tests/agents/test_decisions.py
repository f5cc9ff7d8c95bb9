"""Decision steps as a new user wrote them (issue 17): a handler must select what runs, a join
after a decision follows the skip rule, and status says how much decisions skipped."""

from __future__ import annotations

import asyncio
import logging

import pytest
from agent_helpers import Suite, drive, run_cli

from accord.agents.handlers import DecisionResultError, StepInput, StepOutput, branch_mask

RUNNING, COMPLETED = 1, 3

# intake -> triage (decision) -> fix | wontfix; merge waits for both (join: all, the default),
# notify follows merge; merge-any waits for either (join: 1).
TRIAGE = """
workflow: triage
defaults: {reward: 1000}
steps:
  - {name: intake, role: research}
  - {name: triage, role: analysis, decision: true, depends_on: [intake]}
  - {name: fix, role: execute, depends_on: [triage]}
  - {name: wontfix, role: execute, depends_on: [triage]}
  - {name: merge, role: report, depends_on: [fix, wontfix]}
  - {name: notify, role: report, depends_on: [merge]}
  - {name: merge-any, role: report, depends_on: [fix, wontfix], join: 1}
"""
NAMES = ["intake", "triage", "fix", "wontfix", "merge", "notify", "merge-any"]


def _work(inp: StepInput) -> bytes:
    return f"{inp.name}: done".encode()


def _agents(suite: Suite, triage: object) -> list:
    return [suite.agent("intaker", {"research": _work}),
            suite.agent("triager", {"analysis": triage}),
            suite.agent("fixer", {"execute": _work}),
            suite.agent("reporter", {"report": _work})]


def test_a_decision_handler_returning_plain_bytes_is_refused_not_submitted(
        suite: Suite, caplog: pytest.LogCaptureFixture) -> None:
    """The user's handler returned bytes: before, that submitted an empty selection and the
    coordinator skipped every branch; now the runtime submits nothing and says why."""
    host = suite.host(_agents(suite, lambda inp: b"fix"))
    run_id = suite.start(TRIAGE)
    with caplog.at_level(logging.ERROR, logger="accord"):
        asyncio.run(drive([host], lambda: host.stats["bad_decision"] >= 1))

    submitted = {e["step"] for e in suite.events("StepSubmitted", run_id)}
    assert submitted == {NAMES.index("intake")}  # never the decision
    assert suite.events("StepSkipped", run_id) == []
    assert suite.run_state(run_id) == RUNNING
    line = next(r.getMessage() for r in caplog.records if "not submitting" in r.getMessage())
    assert "step 'triage' is a decision" in line
    assert "StepOutput(data, branches=(...))" in line and "'fix', 'wontfix'" in line


def test_a_join_all_after_a_decision_is_skipped_with_the_branch_it_waits_for(
        suite: Suite, env: dict[str, str]) -> None:
    """The documented rule: a skipped step is never Done, so a join that needs it (join: all)
    is skipped too, and so is everything after it; a join of k that the selected branches can
    still reach (join: 1) runs. The run completes, and status says how much was skipped."""
    host = suite.host(_agents(suite, lambda inp: StepOutput(b"fix it", ("fix",))))
    run_id = suite.start(TRIAGE)
    asyncio.run(drive([host], lambda: suite.run_state(run_id) == COMPLETED))

    done = {NAMES[e["step"]] for e in suite.events("StepDone", run_id)}
    skipped = {NAMES[e["step"]] for e in suite.events("StepSkipped", run_id)}
    assert done == {"intake", "triage", "fix", "merge-any"}
    assert skipped == {"wontfix", "merge", "notify"}
    assert [e["branches"] for e in suite.events("StepSubmitted", run_id)
            if e["step"] == NAMES.index("triage")] == [1 << NAMES.index("fix")]

    status = run_cli("workflow", "status", str(run_id), "--network", "chaina",
                     "--rpc", env["rpc"])
    assert status.exit_code == 0, status.output
    first = status.output.splitlines()[0]
    assert first.startswith(f"run {run_id}: Completed (3 of 7 steps skipped by decisions)"), first


def test_branch_mask_checks_what_a_handler_selected() -> None:
    dependents = 1 << 2 | 1 << 3  # triage's: fix, wontfix
    assert branch_mask("triage", True, ("fix", 3), NAMES, dependents) == 0b1100
    assert branch_mask("fix", False, (), NAMES, 0) == 0
    with pytest.raises(DecisionResultError, match="selects no branch"):
        branch_mask("triage", True, (), NAMES, dependents)
    with pytest.raises(DecisionResultError, match="'merge', which is not one of its dependents"):
        branch_mask("triage", True, ("merge",), NAMES, dependents)
    with pytest.raises(DecisionResultError, match="not one of its dependents"):
        branch_mask("triage", True, (True,), NAMES, dependents)
    with pytest.raises(DecisionResultError, match="'fix' is not a decision"):
        branch_mask("fix", False, ("merge",), NAMES, 1 << 4)


def test_the_triage_example_is_a_decision_its_handler_can_drive() -> None:
    from pathlib import Path

    from accord.agents.agents_file import load_agents
    from accord.agents.demo_handlers import triage
    from accord.workflows.compiler import load_workflow

    root = Path(__file__).resolve().parents[2] / "examples"
    wf = load_workflow(root / "triage.yaml", known_roles={"research", "analysis", "execute",
                                                          "report", "validator"})
    agents = load_agents(root / "triage-agents.yaml")
    assert {r for a in agents.agents for r in a.roles} == {s.role for s in wf.steps}
    steps = wf.definition(31337001).steps
    index = wf.names.index("triage")
    assert steps[index].decision
    dependents = sum(1 << i for i, s in enumerate(steps) if s.deps >> index & 1)
    for text, branch in ((b"a bug in the login form", "fix"), (b"please add dark mode",
                                                                 "wontfix")):
        out = triage(StepInput(1, index, "triage", "analysis", text))
        mask = branch_mask("triage", True, out.branches, wf.names, dependents)
        assert mask == 1 << wf.names.index(branch)
