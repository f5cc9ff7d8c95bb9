"""Issue 17, as the user met it: a restarted `accord agents run` picks its run back up, two
agents files keep two cursors, and a handler mistake fails before any transaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from agent_helpers import Suite, assert_one_line_error, run_cli

from accord.agents.agents_file import load_agents
from accord.agents.runner import build_host
from accord.chain.client import Client

ROOT = Path(__file__).resolve().parents[2]
COMPLETED = 3
LEASE = 30

HANDLERS = '''
import time

def work(inp):
    if inp.attempt == 0:      # the first attempt hangs: the user presses Ctrl-C meanwhile
        time.sleep(3600)
    return b"done on attempt %d" % inp.attempt
'''


def _package(tmp: Path, body: str = HANDLERS) -> str:
    """A package `<unique>/handlers.py` in ``tmp`` (unique: modules are cached per process);
    returns the package name."""
    name = "mywork_" + uuid.uuid4().hex[:8]
    (tmp / name).mkdir()
    (tmp / name / "__init__.py").write_text("")
    (tmp / name / "handlers.py").write_text(body)
    return name


def _agents_file(path: Path, handler: str, name: str = "worker") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"agents:\n  - name: {name}\n    key_env: AGENT_KEY\n    roles:\n"
                    f"      research: {handler}\n")
    return path


def _agents_run(tmp: Path, env: dict[str, str], config: Path, *extra: str
                ) -> subprocess.Popen[str]:
    """`accord agents run` as the user starts it, from ``tmp`` (their project directory).
    `-P`: Python does not put the working directory on sys.path itself (as the `accord`
    console script does not); PYTHONPATH names this checkout only, not ``tmp``."""
    child_env = {**os.environ, "PYTHONPATH": str(ROOT), "ACCORD_ROOT": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-P", "-m", "accord.cli", "agents", "run", "--network", "chaina",
         "--rpc", env["rpc"], "--config", str(config), *extra],
        cwd=tmp, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _until(cond: object, timeout: float, what: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if proc.poll() is not None:
            raise AssertionError(f"agents run exited ({proc.returncode}) before {what}: "
                                 f"{proc.stdout.read() if proc.stdout else ''}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"no {what} within {timeout}s")
        time.sleep(0.1)


def test_restarted_agent_completes_the_step_it_held_when_stopped(
        suite: Suite, env: dict[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    operator = suite.fund()
    monkeypatch.setenv("AGENT_KEY", operator.key.hex())
    config = _agents_file(tmp_path / "agents.yaml", f"{_package(tmp_path)}.handlers:work")
    run_id = suite.start(f"steps:\n  - name: only\n    role: research\n    lease: {LEASE}\n"
                         "    reward: 1000\n")

    first = _agents_run(tmp_path, env, config)
    try:
        _until(lambda: suite.events("StepClaimed", run_id), 60, "claim", first)
        first.send_signal(signal.SIGINT)  # Ctrl-C while it holds the step
        first.wait(timeout=15)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    cursors = list((suite.root / "agents" / "chaina").glob("cursor-agents-*.json"))
    assert len(cursors) == 1  # the saved cursor is past the run's RunStarted
    suite.travel(LEASE + 1)  # the lease lapses: the step is Ready again (attempt 1)
    assert suite.coordinator.functions.readySteps(run_id).call() == 1
    # `accord keep` materialises the lapse (the stake is slashed); the restart tops the bond
    # back up to the role's minimum (devnet onboarding), as a user would bond more.
    suite.client.transact(suite.coordinator.functions.expireLease(run_id, 0), suite.admin)

    second = _agents_run(tmp_path, env, config, "--until-run", str(run_id), "--seconds", "60")
    out, _ = second.communicate(timeout=90)
    assert second.returncode == 0, out
    assert suite.run_state(run_id) == COMPLETED, out
    claims = suite.events("StepClaimed", run_id)
    assert [e["attempt"] for e in claims] == [0, 1]
    assert len({e["agentId"] for e in claims}) == 1  # the same agent, before and after
    assert len(suite.events("StepDone", run_id)) == 1


def test_two_agents_files_with_one_name_keep_separate_cursors(
        suite: Suite, env: dict[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_KEY", suite.fund().key.hex())
    client = Client(env["rpc"])
    coordinator = suite.addresses["coordinator"]
    paths = []
    for folder in ("team-a", "team-b"):
        cfg = load_agents(_agents_file(tmp_path / folder / "agents.yaml",
                                       "accord.agents.demo_handlers:research"))
        host = build_host(client, "chaina", coordinator, cfg, config_stem="agents",
                          echo=lambda _: None)
        paths.append(host.follower.cursor.path)
    assert paths[0] is not None and paths[1] is not None
    assert paths[0] != paths[1]
    assert paths[0].parent == paths[1].parent
    assert all(p.name.startswith("cursor-agents-") for p in paths)


def test_misspelt_handler_fails_before_any_transaction(
        suite: Suite, env: dict[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    operator = suite.fund()
    monkeypatch.setenv("AGENT_KEY", operator.key.hex())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    package = _package(tmp_path, "def fetch(inp):\n    return b'ok'\n")
    config = _agents_file(tmp_path / "agents.yaml", f"{package}.handlers:fecth", "fetcher")
    w3 = suite.client.w3
    before = (w3.eth.get_transaction_count(operator.address),
              w3.eth.get_balance(operator.address), w3.eth.block_number)

    result = run_cli("agents", "run", "--network", "chaina", "--rpc", env["rpc"],
                     "--config", str(config), "--seconds", "5")

    assert_one_line_error(result, f"{config}:5: agent 'fetcher', role 'research': module "
                                  f"'{package}.handlers' has no 'fecth'")
    assert (w3.eth.get_transaction_count(operator.address),
            w3.eth.get_balance(operator.address), w3.eth.block_number) == before
    assert not (suite.root / "agents" / "chaina" / "fetcher.json").exists()  # not onboarded


def test_missing_handler_module_names_file_agent_and_module(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    config = _agents_file(tmp_path / "agents.yaml", "nosuchpkg_17.handlers:work")
    result = run_cli("agents", "run", "--network", "chaina", "--config", str(config))
    assert_one_line_error(result, f"{config}:5: agent 'worker', role 'research': cannot "
                                  "import handler module 'nosuchpkg_17.handlers'")


def test_handler_module_in_the_working_directory_needs_no_pythonpath(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    package = _package(project, "def work(inp):\n    return b'from the project'\n")
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".")])
    monkeypatch.chdir(project)
    cfg = load_agents(_agents_file(project / "agents.yaml", f"{package}.handlers:work"))
    assert cfg.agents[0].loaded["research"](None) == b"from the project"


def test_handler_module_next_to_the_agents_file_is_found_from_elsewhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    package = _package(project, "def work(inp):\n    return b'next to the file'\n")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".")])
    monkeypatch.chdir(tmp_path)  # not the project: the file's directory is searched too
    cfg = load_agents(_agents_file(project / "agents.yaml", f"{package}.handlers:work"))
    assert cfg.agents[0].loaded["research"](None) == b"next to the file"



def test_restarted_validator_judges_a_step_submitted_before_its_cursor(
        suite: Suite, tmp_path: Path) -> None:
    """A judge whose first verdict failed, restarted with its cursor past the step's
    StepSubmitted, finds the Submitted step through the coordinator's views and votes."""
    import asyncio

    from agent_helpers import drive

    from accord.agents.handlers import StepInput, ValidationInput
    from accord.agents.host import Agent

    verdicts: list[str] = []

    def work(inp: StepInput) -> bytes:
        return b"checked work"

    def judge_once_down(v: ValidationInput) -> bool:
        verdicts.append("asked")
        if len(verdicts) == 1:
            raise RuntimeError("model server unreachable")
        return v.result == b"checked work"

    cursor = tmp_path / "judge-cursor.json"
    executor = suite.host([suite.agent("exec-17", {"execute": work})])
    judge = suite.agent("judge-17", validator=judge_once_down)
    first = suite.host([judge], cursor_path=cursor, ws=False)  # saves each block it read
    run_id = suite.start("steps:\n  - name: only\n    role: execute\n    reward: 1000\n"
                         "    quorum: 1\n")

    def submitted() -> int:
        logs = suite.coordinator.events.StepSubmitted.get_logs(
            from_block=0, argument_filters={"runId": run_id})
        return int(logs[0]["blockNumber"]) if logs else 1 << 62

    asyncio.run(drive([executor, first],
                      lambda: bool(verdicts) and first.follower.cursor.block >= submitted()))
    assert suite.run_state(run_id) != COMPLETED

    again = Agent(judge.name, judge.operator, judge.agent_id, validator=judge_once_down)
    second = suite.host([again], cursor_path=cursor)
    assert second.follower.cursor.block >= submitted()  # the event lies behind the cursor
    asyncio.run(drive([second], lambda: suite.run_state(run_id) == COMPLETED))
    assert verdicts == ["asked", "asked"]
    assert [e["response"] for e in suite.events("StepValidated", run_id)] == [100]


def test_restarted_validator_frees_the_vote_stake_it_locked_before_it_stopped(
        suite: Suite, tmp_path: Path) -> None:
    """A judge votes, is stopped while the verdict is still pending, and the other judge
    decides meanwhile: its stake stays locked in AgentRoles until the judge's host, restarted
    with the same cursor, frees it (the pending vote was saved with the cursor)."""
    import asyncio

    from agent_helpers import drive
    from eth_utils import keccak

    from accord.agents.host import Agent

    def work(inp: object) -> bytes:
        return b"checked work"

    roles = suite.client.contract("AgentRoles", suite.addresses["roles"]).functions
    role = keccak(text="validator")
    cursor = tmp_path / "judge-cursor.json"
    executor = suite.host([suite.agent("exec-vs", {"execute": work})])
    early = suite.agent("judge-early", validator=lambda v: True)
    late = suite.host([suite.agent("judge-late", validator=lambda v: True)])  # sees the start
    run_id = suite.start("steps:\n  - name: only\n    role: execute\n    reward: 1000\n"
                         "    quorum: 2\n")
    first = suite.host([early], cursor_path=cursor, ws=False)  # saves each block it read

    def voted_behind_cursor() -> bool:  # the vote's event will not be replayed: the saved
        logs = suite.coordinator.events.StepValidated.get_logs(  # list must carry it
            from_block=0, argument_filters={"runId": run_id})
        return bool(logs) and first.follower.cursor.block > int(logs[0]["blockNumber"])

    asyncio.run(drive([executor, first], voted_behind_cursor,  # blocks for the cursor to pass
                      on_tick=lambda: suite.client.w3.provider.make_request("evm_mine", [])))
    assert roles.lockedOf(early.agent_id, role).call() > 0  # voted, verdict pending
    asyncio.run(drive([late], lambda: suite.run_state(run_id) == COMPLETED))
    assert roles.lockedOf(early.agent_id, role).call() > 0  # nobody freed it while it was down

    again = Agent(early.name, early.operator, early.agent_id, validator=lambda v: True)
    second = suite.host([again], cursor_path=cursor)
    asyncio.run(drive([second], lambda: roles.lockedOf(early.agent_id, role).call() == 0))
    freed = suite.events("VoteStakeReleased", run_id)
    assert [e["agentId"] for e in freed if e["agentId"] == early.agent_id] == [early.agent_id]
