"""Long-running commands stop promptly on SIGTERM and leave nothing running.

Each test starts one command as a subprocess against chains on free loopback ports, waits
until it serves, sends SIGTERM and asserts that it exited and that every process it had
started (found by parent pid before the signal) is gone. The product target is 2 s; the
tests allow EXIT_DEADLINE_S so that a loaded machine does not fail them, and print the
measured time (``pytest -s`` shows it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from accord.chain.client import Client
from accord.chain.accounts import dev_account
from accord.dev.devnet import Devnet
from procs import gone

ROOT = Path(__file__).resolve().parents[2]
EXIT_DEADLINE_S = 10.0
READY_TIMEOUT_S = 90.0
HANG = "tests/devnet/sigterm_handlers.py"


@dataclass
class World:
    """Two linked chains with the suite deployed, and the state dir that describes them."""

    state: Path
    rpc: dict[str, str]
    addresses: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from accord import settings
    from accord.deploy import links
    from accord.deploy import suite
    from accord.deploy.plan import manifest_path as deployment_manifest
    from accord.deploy.plan import read_manifest, run_plan

    root = tmp_path_factory.mktemp("sigterm")
    state = root / "state"
    state.mkdir()
    with pytest.MonkeyPatch.context() as mp, Devnet(log_dir=root / "anvil") as net:
        mp.setenv("ACCORD_STATE_DIR", str(state))
        mp.delenv("ACCORD_DEPLOYMENTS_ROOT", raising=False)
        chains = [net.start("chaina"), net.start("chainb")]
        net.write_manifest(state / "devnet.json")
        admin = dev_account(0)
        addresses: dict[str, dict[str, str]] = {}
        for chain in chains:
            path = deployment_manifest("ethereum", chain.name, state)
            run_plan(Client(chain.rpc_url), admin,
                     suite.plan(settings.load(), chain.name, admin.address), path,
                     network=chain.name)
            addresses[chain.name] = {k: v["address"]
                                     for k, v in read_manifest(path)["contracts"].items()}
        links.link([links.GatewayEnd(Client(c.rpc_url), addresses[c.name]["gateway"], admin,
                                     addresses[c.name]["router"]) for c in chains],
                   [dev_account(i).address for i in (5, 6, 7)], 2)
        yield World(state, {c.name: c.rpc_url for c in chains}, addresses)


class Service:
    """``accord <args>`` as a subprocess with its output in a log file."""

    def __init__(self, world: World, log: Path, *args: str, env: dict[str, str] | None = None,
                 cwd: Path = ROOT) -> None:
        self.log = log
        full_env = {**os.environ, "ACCORD_STATE_DIR": str(world.state), "PYTHONUNBUFFERED": "1",
                    **(env or {})}
        full_env.pop("ACCORD_DEPLOYMENTS_ROOT", None)
        with open(log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "accord.cli", *args],
                                         stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=full_env, cwd=cwd)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, what: str | Callable[[], bool],
                 timeout: float = READY_TIMEOUT_S) -> None:
        ready = (lambda: what in self.text()) if isinstance(what, str) else what
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"exited with {self.proc.returncode} before {what!r}:\n"
                                     f"{self.text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what!r} within {timeout:.0f}s:\n{self.text()[-3000:]}")
            time.sleep(0.05)

    def terminate(self, label: str) -> tuple[float, list[int]]:
        """SIGTERM; returns (seconds until it exited, its child pids at the time)."""
        children = _descendants(self.proc.pid)
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(EXIT_DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{label} did not exit within {EXIT_DEADLINE_S:.0f}s of "
                                 f"SIGTERM:\n{self.text()[-3000:]}") from None
        took = time.monotonic() - t0
        print(f"\n{label}: exited {took:.2f}s after SIGTERM (code {self.proc.returncode}, "
              f"{len(children)} children)")
        return took, children

    def kill(self) -> None:
        """SIGTERM first (a service stops what it started within 2 s), SIGKILL if not."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def service(world: World, tmp_path: Path) -> Iterator[Callable[..., Service]]:
    started: list[Service] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Service:
        s = Service(world, tmp_path / f"service-{len(started)}.log", *args, env=env)
        started.append(s)
        return s

    yield start
    for s in started:
        s.kill()


def _bundle() -> None:
    """The dashboard's script bundle, built as tests/dashboard/conftest.py does when missing."""
    from accord.dashboard.server import BUNDLE

    if not BUNDLE.is_file():
        web = ROOT / "accord" / "dashboard" / "web"
        subprocess.run([str(ROOT / "node_modules" / ".bin" / "esbuild"), str(web / "main.js"),
                        "--bundle", "--minify", "--target=es2020", "--log-level=warning",
                        f"--outfile={BUNDLE}"], check=True, cwd=ROOT)


def _descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (by parent pid; children in new sessions included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, parent in parents.items() if parent == p]
        found += kids
        frontier += kids
    return found


def _assert_stopped(service: Service, label: str) -> float:
    took, children = service.terminate(label)
    left = [c for c in children if not gone(c)]
    assert not left, f"{label} left {left} running"
    return took


def test_validator_exits_promptly_on_sigterm(world: World, service, tmp_path: Path) -> None:
    v = service("validate", "--chain", "chaina", "--dev-account", "5", "--store",
                str(tmp_path / "relay.sqlite"))
    v.wait_for("watching")
    _assert_stopped(v, "accord validate")


def test_relayer_exits_promptly_on_sigterm(world: World, service, tmp_path: Path) -> None:
    r = service("relay", "--from", "chaina", "--to", "chainb", "--dev-account", "3",
                "--store", str(tmp_path / "relay.sqlite"))
    r.wait_for("relaying")
    _assert_stopped(r, "accord relay")


def test_keeper_exits_promptly_on_sigterm(world: World, service) -> None:
    k = service("keep", "--network", "chaina", "--network", "chainb", "--dev-account", "2")
    k.wait_for("keeping")
    _assert_stopped(k, "accord keep")


def test_dashboard_exits_promptly_on_sigterm(world: World, service) -> None:
    _bundle()
    d = service("dashboard", "--port", "0", "--manifest", str(world.state / "devnet.json"))
    d.wait_for("dashboard: http")
    _assert_stopped(d, "accord dashboard")


def test_agents_exit_promptly_on_sigterm_while_a_handler_is_busy(
        world: World, service, tmp_path: Path) -> None:
    """The handler sleeps for minutes, as a slow model call would; SIGTERM still ends the
    process at once (the lease lapses and another agent takes the step)."""
    from accord.workflows.result_store import ResultStore
    from accord.workflows.runs import define, start

    marker = tmp_path / "handler-started"
    (tmp_path / "agents.yaml").write_text(
        "agents:\n  - {name: slow, dev_account: 15, roles: {research: "
        f"\"{Path(HANG).stem}:slow\"}}}}\n")
    (tmp_path / "one.yaml").write_text(
        "workflow: sigterm-one\nsteps:\n  - {name: s0, role: research, reward: 1000, "
        "lease: 60}\n")
    a = service("agents", "run", "--network", "chaina", "--config",
                str(tmp_path / "agents.yaml"), "--store", str(tmp_path / "results"),
                env={"PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / Path(HANG).parent)]),
                     "SIGTERM_HANDLER_MARKER": str(marker)})
    a.wait_for("serving")
    client = Client(world.rpc["chaina"])
    coordinator = world.addresses["chaina"]["coordinator"]
    admin = dev_account(0)
    def_id, wf = define(client, coordinator, tmp_path / "one.yaml", admin, home_chain="chaina")
    start(client, coordinator, def_id, b"input", wf.total_reward(), admin,
          ResultStore(tmp_path / "results"))
    a.wait_for(marker.exists)
    _assert_stopped(a, "accord agents run (handler busy)")


STUCK = """
import subprocess, sys, threading, time
from accord.service import shutdown as _shutdown
_shutdown.install()
child = subprocess.Popen(["sleep", "600"], start_new_session=True)
_shutdown.track(child.pid)
threading.Thread(target=time.sleep, args=(600,)).start()  # not a daemon: exit waits for it
print("ready", child.pid, flush=True)
time.sleep(600)
"""


def test_a_process_that_cannot_unwind_still_ends_and_takes_its_children(tmp_path: Path) -> None:
    """The watchdog: a thread that never returns holds up the interpreter's exit; the process
    still ends, and kills the child it tracked."""
    log = tmp_path / "stuck.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", STUCK], stdout=out,
                                stderr=subprocess.STDOUT, cwd=ROOT)
    s = Service.__new__(Service)
    s.log, s.proc = log, proc
    try:
        s.wait_for("ready", 30)
        child = int(s.text().split()[1])
        s.terminate("a process stuck in a thread")
        assert proc.returncode == 128 + signal.SIGTERM
        assert "exiting now" in s.text()
        deadline = time.monotonic() + EXIT_DEADLINE_S
        while not gone(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gone(child), f"the tracked child {child} outlived its parent"
    finally:
        s.kill()
