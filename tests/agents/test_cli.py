"""`accord workflow` and `accord agents` end to end, and their one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_helpers import Suite
from agent_helpers import assert_one_line_error as _one_line_error
from agent_helpers import run_cli as _run

ROOT = Path(__file__).resolve().parents[2]


def test_define_start_run_agents_and_status(suite: Suite, env: dict[str, str],
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    common = ["--network", "chaina", "--rpc", env["rpc"]]
    agents = {"researcher": "research", "analyst-1": "analysis", "analyst-2": "analysis",
              "writer": "report"}
    lines = ["store: " + str(tmp_path / "results"), "agents:"]
    for i, (name, role) in enumerate([*agents.items(), ("reviewer", None)]):
        key = suite.fund()
        monkeypatch.setenv(f"AGENT_KEY_{i}", key.key.hex())
        lines += [f"  - name: {name}", f"    key_env: AGENT_KEY_{i}"]
        lines += [f"    roles: {{{role}: accord.agents.demo_handlers:"
                  f"{'analyze' if role == 'analysis' else role}}}"] if role else \
            ["    validates: accord.agents.demo_handlers:review"]
    (tmp_path / "agents.yaml").write_text("\n".join(lines) + "\n")
    (tmp_path / "topic.txt").write_text("tidal energy")

    defined = _run("workflow", "define", str(ROOT / "examples" / "research.yaml"), *common,
                   "--key-env", "ACCORD_TEST_KEY")
    assert defined.exit_code == 0, defined.output
    def_id = defined.output.split()[1]
    started = _run("workflow", "start", def_id, *common, "--key-env", "ACCORD_TEST_KEY",
                   "--input", str(tmp_path / "topic.txt"), "--budget", "0.01 ether",
                   "--store", str(tmp_path / "results"))
    assert started.exit_code == 0, started.output
    run_id = started.output.split()[1]

    served = _run("agents", "run", *common, "--config", str(tmp_path / "agents.yaml"),
                  "--until-run", run_id, "--seconds", "30")
    assert served.exit_code == 0, served.output
    status = _run("workflow", "status", run_id, *common)
    assert status.exit_code == 0, status.output
    out = status.output.splitlines()
    assert out[0].startswith(f"run {run_id}: Completed")
    rows = {line.split()[1]: line.split()[2] for line in out[2:]}
    assert rows["research"] == rows["synthesis"] == rows["report"] == "Done"
    assert "+1 -0 /1" in next(line for line in out if " report " in line)
    watched = _run("workflow", "watch", run_id, *common)  # an ended run: one view, then exit
    assert watched.exit_code == 0, watched.output
    assert "report" in watched.output
    assert watched.output.rstrip().endswith(f"run {run_id} ended: Completed")


def test_bad_yaml_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - name: a\n    role: [research\n")
    _one_line_error(_run("workflow", "define", str(bad), "--network", "chaina"),
                    f"{bad}:4: invalid YAML")


def test_unknown_role_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "roles.yaml"
    bad.write_text("steps:\n  - name: a\n    role: astrology\n")
    _one_line_error(_run("workflow", "define", str(bad), "--network", "chaina"),
                    f"{bad}:3: step 'a' uses unknown role 'astrology'")


def test_missing_manifest_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_STATE_DIR", str(tmp_path))
    _one_line_error(_run("workflow", "status", "1", "--network", "chaina"),
                    "no deployment manifest for 'chaina'")
    _one_line_error(_run("workflow", "define", str(ROOT / "examples" / "research.yaml"),
                         "--network", "chaina"), "no deployment manifest for 'chaina'")


def test_unreachable_rpc_is_one_line(env: dict[str, str]) -> None:
    _one_line_error(_run("workflow", "status", "1", "--network", "chaina", "--rpc",
                         "http://127.0.0.1:9"), "cannot reach the RPC of 'chaina'")


def test_unknown_run_is_one_line(env: dict[str, str]) -> None:
    _one_line_error(_run("workflow", "status", "999999", "--network", "chaina", "--rpc",
                         env["rpc"]), "run 999999 does not exist")


def test_bad_agents_file_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "agents.yaml"
    bad.write_text("agents:\n  - name: a\n    dev_account: 1\n    roles:\n"
                   "      research: demo.research\n")
    _one_line_error(_run("agents", "run", "--network", "chaina", "--rpc", env["rpc"],
                         "--config", str(bad)), f"{bad}:5: handler 'demo.research'")
