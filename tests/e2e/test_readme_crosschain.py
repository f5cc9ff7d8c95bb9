"""The README's cross-chain path, command by command, as a new user runs it (issue 17).

Two anvils on free ports (`accord devnet up --any-port`), the suite deployed and linked,
validators, relayers, the keeper and agents on both chains as separate `accord` processes,
the run creator's deposit paid with `accord router deposit`, then a workflow whose middle
step runs on chainb. Also: a creator who paid nothing is named by `accord doctor` and by the
reasons `accord workflow status` prints, and paying with the command unsticks the step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from accord.chain.accounts import dev_account
from accord.dev.supervisor import Supervisor

ROOT = Path(__file__).resolve().parents[2]
EX = ROOT / "examples"
CREATOR = dev_account(0).address    # `accord workflow start` on a devnet: dev account 0
STRANGER = dev_account(1)          # a second creator who deposits nothing at first


@dataclass
class Readme:
    env: dict[str, str]
    sup: Supervisor
    tmp: Path

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([sys.executable, "-m", "accord.cli", *args], capture_output=True,
                             text=True, timeout=300, env=self.env, cwd=ROOT)
        if check:
            assert out.returncode == 0, f"accord {' '.join(args)}:\n{out.stdout}\n{out.stderr}"
        return out

    def status(self, run_id: int) -> dict[str, object]:
        out = self.run("workflow", "status", str(run_id), "--network", "chaina", "--json")
        return dict(json.loads(out.stdout))

    def states(self, run_id: int) -> tuple[str, list[str]]:
        """The run's state and its steps' on chaina, read in this process (polling through
        the CLI would start a Python process per poll: a busy core on a 2-core machine)."""
        from accord.chain.client import Client
        from accord.chain.types import RunState, StepState
        from accord.deploy.plan import read_manifest as read_deployment
        from accord.dev.devnet import read_manifest

        state = Path(self.env["ACCORD_STATE_DIR"])
        client = Client(read_manifest(state / "devnet.json")["chaina"].rpc_url)
        address = read_deployment(state / "deployments" / "ethereum_chaina.json")[
            "contracts"]["coordinator"]["address"]
        coord = client.contract("WorkflowCoordinator", address)
        steps = [StepState(int(coord.functions.stepState(run_id, i).call())).label
                 for i in range(3)]
        return RunState(int(coord.functions.runState(run_id).call())).label, steps

    def wait_for(self, what: str, ok: object, timeout: float = 150.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if callable(ok) and ok():
                return
            time.sleep(0.5)
        logs = "\n".join(f"--- {n}\n{self.sup.log_tail(n, 15)}" for n in self.sup.procs)
        raise AssertionError(f"timed out waiting for {what}\n{logs}")


@pytest.fixture(scope="module")
def readme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Readme]:
    tmp = tmp_path_factory.mktemp("readme")
    env = {**os.environ, "ACCORD_STATE_DIR": str(tmp / "state")}
    env.pop("ACCORD_DEPLOYMENTS_ROOT", None)
    with Supervisor(tmp / "logs", env=env) as sup:
        r = Readme(env, sup, tmp)
        # "Deploying, linking, checking"
        r.run("devnet", "up", "--any-port")
        try:
            r.run("deploy", "--network", "chaina")
            r.run("deploy", "--network", "chainb")
            r.run("link", "chaina", "chainb")
            # "Cross-chain workflows": every service, in the README's order
            for chain in ("chaina", "chainb"):
                for key in ("5", "6"):
                    sup.start(f"validate-{chain}-{key}", "validate", "--chain", chain,
                              "--dev-account", key)
            sup.start("relay-ab", "relay", "--from", "chaina", "--to", "chainb",
                      "--dev-account", "3")
            sup.start("relay-ba", "relay", "--from", "chainb", "--to", "chaina",
                      "--dev-account", "3")
            sup.start("keep", "keep", "--network", "chaina", "--network", "chainb",
                      "--dev-account", "2")
            sup.start("agents-chaina", "agents", "run", "--network", "chaina", "--config",
                      str(EX / "crosschain-agents-chaina.yaml"))
            sup.start("agents-chainb", "agents", "run", "--network", "chainb", "--config",
                      str(EX / "crosschain-agents-chainb.yaml"))
            yield r
        finally:
            sup.stop_all()
            r.run("devnet", "down", check=False)


def _state(r: Readme, run_id: int) -> str:
    return r.states(run_id)[0]


def test_the_readme_cross_chain_path_completes_the_remote_step(readme: Readme) -> None:
    r = readme
    r.run("router", "deposit", "--network", "chainb", "--creator", CREATOR,
          "--amount", "0.003ether")
    balance = r.run("router", "balance", "--network", "chainb", "--creator", CREATOR)
    assert f"{CREATOR} has 3000000000000000 wei" in balance.stdout
    question = r.tmp / "question.txt"
    question.write_text("Should the cooperative buy the solar array?")
    r.run("workflow", "define", str(EX / "crosschain.yaml"), "--network", "chaina")
    started = r.run("workflow", "start", str(EX / "crosschain.yaml"), "--network", "chaina",
                    "--input", str(question))
    assert started.stdout.startswith("run 1 started")
    r.wait_for("run 1 to complete", lambda: _state(r, 1) in ("Completed", "Failed"))
    snap = r.status(1)
    assert snap["state"] == "Completed"
    assert [s["state"] for s in snap["steps"]] == ["Done", "Done", "Done"]  # type: ignore[union-attr, index]
    # on chainb the remote step's one-step run keeps its home step's name
    remote = json.loads(r.run("workflow", "status", "1", "--network", "chainb", "--json").stdout)
    assert [(s["name"], s["state"]) for s in remote["steps"]] == [("analyze", "Done")]
    # the remote step was paid from the deposit: one reward charged
    after = r.run("router", "balance", "--network", "chainb", "--creator", CREATOR)
    assert f"{CREATOR} has 2000000000000000 wei" in after.stdout
    as_data = json.loads(r.run("router", "balance", "--network", "chainb", "--creator",
                               CREATOR, "--json").stdout)
    assert as_data["deposit_wei"] == 2 * 10**15 and as_data["creator"] == CREATOR
    doctor = r.run("doctor", "--network", "chaina", "--network", "chainb")
    assert doctor.stdout.strip().endswith("0 errors, 0 warnings"), doctor.stdout
    report = json.loads(r.run("doctor", "--network", "chaina", "--network", "chainb",
                              "--json").stdout)
    assert (report["errors"], report["warnings"]) == (0, 0)


def test_an_unfunded_remote_step_is_named_by_doctor_and_status_until_paid(
        readme: Readme, monkeypatch: pytest.MonkeyPatch) -> None:
    r = readme
    monkeypatch.setenv("ACCORD_STATE_DIR", r.env["ACCORD_STATE_DIR"])
    out = r.run("workflow", "start", str(EX / "crosschain.yaml"), "--network", "chaina",
                "--dev-account", "1")
    run_id = int(out.stdout.split()[1])

    def waits() -> bool:
        return r.states(run_id)[1][1] == "Dispatched" and "deposit" in _doctor(r).stdout

    r.wait_for("the remote step to wait for a deposit", waits)
    doctor = _doctor(r)
    assert doctor.returncode == 0  # warnings only
    warned = [line for line in doctor.stdout.splitlines() if line.startswith("warning:")]
    assert any("[chainb]" in w and "waits on chainb for its creator's deposit" in w
               and STRANGER.address in w and "1000000000000000 wei missing" in w
               and "accord router deposit --network chainb" in w for w in warned), warned
    assert doctor.stdout.strip().endswith(f"0 errors, {len(warned)} warnings")
    # `accord workflow status` says why under its table (and in --json)
    text = r.run("workflow", "status", str(run_id), "--network", "chaina").stdout
    lines = [line for line in text.splitlines() if line.startswith("stuck: ")]
    assert len(lines) == 1 and lines[0].startswith("stuck: step 1 is Dispatched")
    assert STRANGER.address in lines[0] and "accord router deposit" in lines[0]
    assert r.status(run_id)["stuck"] == [lines[0].removeprefix("stuck: ")]
    # the keeper says so at warning level too
    assert "waits for its creator's deposit" in (r.tmp / "logs" / "keep.log").read_text()
    # pay with the command the warning names; the keeper opens the task and the run ends
    r.run("router", "deposit", "--network", "chainb", "--creator", STRANGER.address,
          "--amount", "0.001ether")
    r.wait_for(f"run {run_id} to complete", lambda: _state(r, run_id) in ("Completed", "Failed"))
    assert _state(r, run_id) == "Completed"
    assert "deposit" not in _doctor(r).stdout


@pytest.mark.slow  # 40 s; `make test-all` runs it (the unfunded test covers doctor/status in CI)
def test_doctor_names_a_step_nobody_dispatches_and_a_task_nobody_relays(readme: Readme) -> None:
    """Without `accord keep` the remote step sits Ready; without the relayer it sits
    Dispatched: doctor says which, with the command to run (the README's first report)."""
    r = readme
    r.sup.stop("keep")
    out = r.run("workflow", "start", str(EX / "crosschain.yaml"), "--network", "chaina")
    run_id = int(out.stdout.split()[1])
    r.wait_for("the remote step to be Ready", lambda: r.states(run_id)[1][1] == "Ready")
    doctor = _doctor(r)
    assert doctor.returncode == 0
    assert (f"warning: [chaina] run {run_id} step 1 runs on chainb and is Ready: nobody has "
            "dispatched it; run 'accord keep --network chaina --network chainb'") in doctor.stdout
    r.sup.stop("relay-ab")
    r.sup.start("keep", "keep", "--network", "chaina", "--network", "chainb",
                "--dev-account", "2")
    r.wait_for("the remote step to be Dispatched",
               lambda: r.states(run_id)[1][1] == "Dispatched")
    doctor = _doctor(r)
    assert (f"warning: [chaina] run {run_id} step 1 is Dispatched, but its task message 0x"
            in doctor.stdout and "has not reached chainb" in doctor.stdout
            and "accord relay --from chaina --to chainb" in doctor.stdout), doctor.stdout
    r.sup.start("relay-ab", "relay", "--from", "chaina", "--to", "chainb", "--dev-account", "3")
    r.wait_for(f"run {run_id} to complete", lambda: _state(r, run_id) in ("Completed", "Failed"))
    assert _state(r, run_id) == "Completed"


def _doctor(r: Readme) -> subprocess.CompletedProcess[str]:
    return r.run("doctor", "--network", "chaina", "--network", "chainb", check=False)


def test_message_status_of_an_unknown_id_exits_non_zero(readme: Readme) -> None:
    out = readme.run("message", "status", "0x" + "ab" * 32, check=False)
    assert out.returncode == 1
    assert out.stderr.startswith(f"error: message 0x{'ab' * 32} not found on chaina, chainb")
    assert out.stderr.count("\n") == 1 and out.stdout == ""


@pytest.mark.parametrize(("argv", "error"), [
    (["--amount", "lots"], "--amount 'lots' is not an amount"),
    (["--amount", "0"], "--amount must be more than 0"),
    (["--amount", "1ether", "--creator", "0x12"], "--creator '0x12' is not an address"),
    (["--amount", "1ether", "--network", "chaind"], "unknown network 'chaind'"),
])
def test_router_deposit_refuses_bad_input_in_one_line(readme: Readme, argv: list[str],
                                                      error: str) -> None:
    args = ["router", "deposit", *(["--network", "chainb"] if "--network" not in argv else []),
            *argv]
    out = readme.run(*args, check=False)
    assert out.returncode == 1
    assert out.stderr.startswith(f"error: {error}"), out.stderr
    assert out.stderr.count("\n") == 1
