"""`accord workflow define` and `start` say when a quorum cannot be met (issue 17: `quorum: 9`
with 3 judges was accepted, started, and sat Submitted forever)."""

from __future__ import annotations

from pathlib import Path

from agent_helpers import Suite, assert_one_line_error, run_cli

from accord.agents.handlers import ValidationInput
from accord.workflows.runs import judge_owners

REVIEWED = """
workflow: reviewed
steps:
  - {name: research, role: research, reward: 1000, quorum: QUORUM}
  - {name: report, role: report, reward: 1000, depends_on: [research]}
"""


def _approve(v: ValidationInput) -> bool:
    return True


def _file(tmp_path: Path, quorum: int) -> str:
    path = tmp_path / f"reviewed-{quorum}.yaml"
    path.write_text(REVIEWED.replace("QUORUM", str(quorum)))
    return str(path)


def test_quorum_above_the_bonded_judges_warns_on_define_and_is_refused_on_start(
        suite: Suite, env: dict[str, str], tmp_path: Path) -> None:
    common = ["--network", "chaina", "--rpc", env["rpc"], "--key-env", "ACCORD_TEST_KEY"]
    for i in range(3):  # three judges, each its own owner (a fresh operator key)
        suite.agent(f"judge-{i}", validator=_approve)
    from accord.settings import role_id

    assert len(judge_owners(suite.client, suite.addresses["coordinator"],
                            role_id("validator"))) == 3
    # bonds are read from a given block on (the CLI passes AgentRoles' deployment block)
    suite.client.w3.provider.make_request("evm_mine", [])
    after = suite.client.w3.eth.block_number  # a block with no bonds in it
    assert judge_owners(suite.client, suite.addresses["coordinator"], role_id("validator"),
                        from_block=after) == set()

    defined = run_cli("workflow", "define", _file(tmp_path, 9), *common)
    assert defined.exit_code == 0, defined.output  # judges may still bond: a warning
    lines = defined.output.strip().splitlines()
    assert lines[0].startswith("definition 0x") and len(lines) == 2, defined.output
    assert lines[1].startswith("warning: step 'research' needs 9 judge approval(s) but only 3 "
                               "judge(s) with independent owners are bonded for role "
                               "'validator' on chaina"), lines[1]

    runs = len(suite.coordinator.events.RunStarted().get_logs(from_block=0))
    refused = run_cli("workflow", "start", _file(tmp_path, 9), *common)
    assert_one_line_error(refused, "step 'research' needs 9 judge approval(s) but only 3")
    assert "lower the quorum or bond 6 more judge(s)" in refused.output
    assert "--force starts it anyway" in refused.output
    assert len(suite.coordinator.events.RunStarted().get_logs(from_block=0)) == runs

    forced = run_cli("workflow", "start", _file(tmp_path, 9), *common, "--force")
    assert forced.exit_code == 0, forced.output
    assert forced.output.startswith("run ") and "warning: step 'research'" in forced.output

    met = run_cli("workflow", "start", _file(tmp_path, 3), *common)
    assert met.exit_code == 0, met.output
    assert "warning" not in met.output


def test_judges_sharing_one_owner_count_once(suite: Suite) -> None:
    from accord.agents.onboard import onboard
    from accord.settings import role_id

    role = role_id("validator")
    before = judge_owners(suite.client, suite.addresses["coordinator"], role)
    owner = suite.fund()
    first = onboard(suite.client, suite.addresses, owner, ["validator"])
    second = onboard(suite.client, suite.addresses, owner, ["validator"])
    assert first != second
    after = judge_owners(suite.client, suite.addresses["coordinator"], role)
    assert after - before == {owner.address}
