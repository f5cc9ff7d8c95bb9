"""Workflow YAML: compilation to the on-chain struct and errors that point at the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.settings import role_id
from accord.workflows.compiler import (
    DEFAULT_STAKE,
    NO_STEP,
    WorkflowFileError,
    load_workflow,
    parse_amount,
    parse_workflow,
)

ROOT = Path(__file__).resolve().parents[2]
ROLES = {"research", "analysis", "report", "validator"}


def _err(text: str, **kw: object) -> str:
    with pytest.raises(WorkflowFileError) as info:
        parse_workflow(text, "workflow.yaml", **kw)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    return message


def test_example_compiles_to_the_definition_struct() -> None:
    wf = load_workflow(ROOT / "examples" / "research.yaml", known_roles=ROLES)
    assert wf.names == ["research", "analyze-market", "analyze-risks", "analyze-costs",
                        "synthesis", "report"]
    vrole, stake, window, policy, steps = wf.definition(31337001)
    assert vrole == b"\x00" * 32 and stake == DEFAULT_STAKE and (window, policy) == (0, 0)
    assert steps[0][0] == role_id("research") and steps[0][8] == 1  # quorum
    assert [s[1] for s in steps] == [0, 1, 1, 1, 0b1110, 0b10000]
    assert steps[4][2] == 2  # join 2 of 3
    assert steps[5][9] == 2 * 10**15 and steps[1][9] == 10**15
    assert all(s[10] == NO_STEP and s[12] == 31337001 for s in steps)
    assert wf.total_reward() == 7 * 10**15


def test_steps_are_sorted_so_dependencies_come_first() -> None:
    wf = parse_workflow("steps:\n  - {name: b, role: x, depends_on: a}\n  - {name: a, role: x}\n")
    assert wf.names == ["a", "b"]
    assert wf.definition(1)[4][1][1] == 1


def test_unknown_dependency_points_at_its_line() -> None:
    text = "steps:\n  - name: research\n    role: research\n  - name: report\n    role: report\n" \
           "    depends_on: [research, analyze]\n"
    assert _err(text) == ("workflow.yaml:6: step 'report' depends on unknown step 'analyze'; "
                          "known steps: research, report")


def test_unknown_role_points_at_its_line() -> None:
    text = "steps:\n  - name: a\n    role: research\n  - name: b\n    role: tranlsate\n"
    assert _err(text, known_roles=ROLES).startswith(
        "workflow.yaml:5: step 'b' uses unknown role 'tranlsate'; configured roles: analysis")


@pytest.mark.parametrize(("text", "expected"), [
    ("steps: [\n", "workflow.yaml:2: invalid YAML"),
    ("", "workflow.yaml:1: the file is empty"),
    ("workflow: x\n", "workflow.yaml:1: missing 'steps:'"),
    ("steps:\n  - name: a\n    role: x\n    leese: 5\n", "workflow.yaml:4: unknown key 'leese'"),
    ("steps:\n  - name: a\n    role: x\n  - name: a\n    role: x\n",
     "workflow.yaml:4: duplicate step name 'a'"),
    ("steps:\n  - name: a\n    role: x\n    reward: 0.01 eth3r\n",
     "workflow.yaml:4: reward of step 'a' '0.01 eth3r' is not an amount"),
    ("steps:\n  - name: a\n    role: x\n    attempts: 0\n",
     "workflow.yaml:4: attempts of step 'a' must be an integer in 1..255"),
    ("steps:\n  - {name: a, role: x}\n  - {name: b, role: x, depends_on: [a], join: 3}\n",
     "workflow.yaml:3: step 'b' joins 3 of 1 dependencies"),
    ("steps:\n  - {name: a, role: x, depends_on: b}\n  - {name: b, role: x, depends_on: a}\n",
     "workflow.yaml:2: steps form a cycle"),
    ("steps:\n  - {name: a, role: x, chain: chainz}\n",
     "workflow.yaml:2: step 'a' runs on unknown chain 'chainz'"),
    ("steps:\n  - name: a\n    role: x\n    backoff: {initial: 10, cap: 5}\n",
     "workflow.yaml:4: backoff cap 5 of step 'a' is below its initial delay 10"),
    ("steps:\n  - {name: a, role: x, compensation: b}\n  - {name: b, role: x, depends_on: a}\n",
     "workflow.yaml:2: 'b' cannot compensate 'a'"),
])
def test_errors_name_the_line(text: str, expected: str) -> None:
    kw = {"home_chain": "chaina"} if "chain:" in text else {}
    assert _err(text, **kw).startswith(expected)


def test_amounts_accept_units_and_wei() -> None:
    assert parse_amount("0.01 ether") == 10**16
    assert parse_amount("0.01ether") == parse_amount(" 0.01 ETHER ") == 10**16  # as the CLI
    assert parse_amount("5 gwei") == 5 * 10**9
    assert parse_amount(1234) == 1234
    assert parse_amount("1234") == 1234


def test_a_step_on_another_chain_compiles_to_that_chains_id() -> None:
    from accord.paths import devnet_spec

    wf = parse_workflow("steps:\n  - {name: a, role: research}\n"
                        "  - {name: b, role: execute, depends_on: [a], chain: chainb}\n")
    home = devnet_spec("chaina").chain_id
    steps = wf.definition(home).steps
    assert steps[0].chainId == home
    assert steps[1].chainId == devnet_spec("chainb").chain_id


def test_stake_and_validation_timeout_compile_into_the_definition() -> None:
    wf = parse_workflow("stake: 0.002 ether\nvalidation_timeout: 300\n"
                        "on_validation_timeout: accept\nsteps:\n  - {name: a, role: x}\n")
    assert wf.definition(1)[1:4] == (2 * 10**15, 300, 1)
    assert parse_workflow("slash: 7\nsteps:\n  - {name: a, role: x}\n").definition(1)[1] == 7


def test_default_stake_makes_abandoning_a_claim_cost_something() -> None:
    assert parse_workflow("steps:\n  - {name: a, role: x}\n").definition(1)[1] == DEFAULT_STAKE > 0


def test_unknown_validation_timeout_policy_points_at_its_line() -> None:
    assert _err("on_validation_timeout: maybe\nsteps:\n  - {name: a, role: x}\n") == (
        "workflow.yaml:1: on_validation_timeout must be one of retry, accept, fail, not 'maybe'")


def test_slash_and_stake_together_are_refused() -> None:
    assert _err("slash: 1\nstake: 2\nsteps:\n  - {name: a, role: x}\n") == (
        "workflow.yaml:1: 'slash' and 'stake' are the same setting; keep 'stake'")
