"""`accord demo` end to end, as the README's first command runs it: every attester, relayer
and agent group is its own process with its own state directory and HOME, sharing nothing but
the chains (and, for results, the IPFS network). While it runs, this test attacks it from
outside: one chaina attester's server is replaced by a liar, one chainb attester is killed
mid-run and the IPFS node of the group that produced the chainb result is killed once that
result is on the home chain; the three-chain run still completes. And Ctrl-C stops it all.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from accord.chain.accounts import dev_account
from accord.testing.processes import processes_under

ROOT = Path(__file__).resolve().parents[2]
ATTESTER_KEYS = (5, 6, 7)


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "ACCORD_STATE_DIR": str(tmp_path / "state"), "PYTHONUNBUFFERED": "1"}


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _operator_pid(demo_state: Path, name: str) -> int:
    """The pid of the Accord process running as operator ``name`` (its own state dir)."""
    folder = str(demo_state / "operators" / name)
    pids = [p for p in processes_under(demo_state, ("accord.cli",))
            if _environ(p).get("ACCORD_STATE_DIR") == folder]
    assert len(pids) == 1, (name, pids)
    return pids[0]


class Watched:
    """The demo's output, read line by line in a thread, with deadlines."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 180.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if m := re.search(pattern, line):
                    return m
            if self.proc.poll() is not None:
                time.sleep(0.5)  # the pump's last lines
                if any(re.search(pattern, x) for x in self.lines):
                    continue
                break
            time.sleep(0.05)
        raise AssertionError(f"the demo never printed /{pattern}/:\n" + "\n".join(self.lines[-40:]))


LIAR = """
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIGNATURE = "0x" + "11" * 32 + "22" * 32 + "1b"  # well formed, signed by nobody it claims

class Lies(BaseHTTPRequestHandler):
    def do_GET(self):
        key = self.path.rsplit("/", 1)[-1]
        body = json.dumps({"key": key, "signer": sys.argv[3], "value": SIGNATURE}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        print(key, flush=True)

    def log_message(self, *args):
        pass

ThreadingHTTPServer.allow_reuse_address = True
server = ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Lies)
print("ready", flush=True)
server.serve_forever()
"""


def _lying_server(host: str, port: int, attester: str, log: Path) -> subprocess.Popen[bytes]:
    """A process on the attester's announced ``host:port`` answering every key with a
    well-formed signature that is not the attester's: what a compromised or broken publication
    serves. It prints each key it is asked for to ``log``."""
    deadline = time.monotonic() + 30
    while True:  # the killed attester's socket may linger a moment
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-c", LIAR, host, str(port), attester],
                                    stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None and b"ready" not in log.read_bytes():
            time.sleep(0.05)
        if proc.poll() is None:
            return proc
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


def _first_validator(state: Path, origin: str, dest: str) -> tuple[int, str]:
    """The dev index and address of the validator the destination lists first for the origin
    (a relayer asks its announced location first)."""
    from accord.chain.client import Client
    from accord.deploy.plan import read_manifest as read_deployment
    from accord.dev.devnet import read_manifest

    chains = read_manifest(state / "devnet.json")
    gateway = read_deployment(state / "deployments" / f"ethereum_{dest}.json")[
        "contracts"]["gateway"]["address"]
    client = Client(chains[dest].rpc_url)
    first = str(client.contract("AccordGateway", gateway).functions
                .validators(chains[origin].chain_id).call()[0])
    index = next(i for i in ATTESTER_KEYS if dev_account(i).address == first)
    return index, first


def _announced(state: Path, chain: str, attester: str, timeout: float = 60.0) -> str:
    """Where ``attester`` announced it publishes (waiting for its announcement)."""
    from accord.chain.client import Client
    from accord.crosschain.announce import discover
    from accord.deploy.plan import read_manifest as read_deployment
    from accord.dev.devnet import read_manifest

    rpc = read_manifest(state / "devnet.json")[chain].rpc_url
    board = read_deployment(state / "deployments" / f"ethereum_{chain}.json")[
        "contracts"]["announce"]["address"]
    client = Client(rpc)
    deadline = time.monotonic() + timeout
    while not (found := discover(client, board, [attester])):
        assert time.monotonic() < deadline, f"{attester} announced nothing on {chain}"
        time.sleep(0.2)
    return found[attester]


def test_demo_survives_a_lying_attester_a_dead_attester_and_a_dead_result_node(
        tmp_path: Path) -> None:
    started = time.monotonic()
    state = tmp_path / "state" / "demo"
    proc = subprocess.Popen([sys.executable, "-m", "accord.cli", "demo"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=_env(tmp_path), cwd=ROOT)
    demo = Watched(proc)
    liar_proc: subprocess.Popen[bytes] | None = None
    lies = tmp_path / "liar.log"
    try:
        demo.wait_for(r"^started \d+ operators")
        # every operator is its own process with its own state directory and HOME
        operators = sorted(p.name for p in (state / "operators").iterdir())
        for name in operators:
            if name == "creator":
                continue  # the demo process itself
            env = _environ(_operator_pid(state, name))
            assert env["ACCORD_STATE_DIR"] == env["HOME"] == str(state / "operators" / name)

        # a liar where the chaina attester the relayers ask first publishes
        liar_index, liar = _first_validator(state, "chaina", "chainb")
        where = urlsplit(_announced(state, "chaina", liar))
        os.kill(_operator_pid(state, f"attester-chaina-{liar_index}"), signal.SIGKILL)
        liar_proc = _lying_server(where.hostname or "127.0.0.1", where.port or 80, liar, lies)

        # mid-run: the chainb attester asked first for the results coming back dies
        demo.wait_for(r"^\s+[\d.]+s\s+execute\s+Dispatched$")
        dead_index, _ = _first_validator(state, "chainb", "chaina")
        os.kill(_operator_pid(state, f"attester-chainb-{dead_index}"), signal.SIGKILL)

        # the chainb group's IPFS node, which alone published the execute result, dies once
        # that result is on chaina (the creator's node has kept a copy by then)
        demo.wait_for(r"^\s+[\d.]+s\s+execute\s+Done$")
        node = [p for p in processes_under(state, ("ipfs/node.mjs",))
                if "operators/agents-chainb/ipfs" in _cmdline(p)]
        assert len(node) == 1, node
        os.kill(node[0], signal.SIGKILL)

        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        if liar_proc is not None:
            liar_proc.kill()
            liar_proc.wait()
    out = "\n".join(demo.lines)
    assert proc.returncode == 0, out[-5000:]
    assert re.search(r"run 1: Completed in [\d.]+s", out)
    assert "steps      8 done of 8" in out
    assert "execute         Dispatched" in out  # the chainb step went cross-chain
    assert "audit           Dispatched" in out  # and the chainc step (2 s blocks)
    assert "(delivered 4)" in out                  # tasks there, results back
    # the chainb executor's handler saw the home step's name, not the remote run's "step0"
    assert '"execute": {"step": "execute"' in out
    assert sorted(operators) == sorted([
        "creator", "agents-chaina", "validators-chaina", "agents-chainb", "agents-chainc",
        "keeper", "relayer-chaina-chainb", "relayer-chainb-chaina", "relayer-chaina-chainc",
        "relayer-chainc-chaina", *(f"attester-{c}-{i}" for c in ("chaina", "chainb", "chainc")
                                   for i in ATTESTER_KEYS)])
    # the summary says who did what: the work was the agent groups', each relayer delivered
    # its own direction, the attesters announced where they publish
    lines = out.split("  operators", 1)[1].splitlines()
    what = {tuple(line.split()[:2]): line for line in lines if line.startswith("    ")}
    assert "submit" in what["agents-chaina", "chaina:"]
    assert "respond" in what["validators-chaina", "chaina:"]
    assert "deliver" in what["relayer-chaina-chainb", "chainb:"]
    assert "deliver" in what["relayer-chainb-chaina", "chaina:"]
    assert "deliver" in what["relayer-chainc-chaina", "chaina:"]
    assert "announce 1" in what["attester-5", "chaina:"]
    # results crossed operators on IPFS, and the creator's node kept every one
    assert re.search(r"results    8 on ipfs:// .*keeps a copy of 8", out)
    # the liar was asked, caught and ignored by the relayers that needed chaina's signatures
    logs = "".join((state / "logs" / f"relayer-chaina-{d}.log").read_text()
                   for d in ("chainb", "chainc"))
    asked = lies.read_text().split()[1:]
    assert asked, "nobody asked the lying attester"
    assert re.search(rf"attester {liar} at \S+ served a signature that is not its own", logs), \
        (asked, logs[-3000:])
    assert time.monotonic() - started < 280  # a sanity bound, not a benchmark
    assert processes_under(tmp_path / "state") == []


def test_ctrl_c_mid_run_stops_the_demo_and_everything_it_started(tmp_path: Path) -> None:
    """SIGINT while the run is under way: its three anvils, its operators and IPFS nodes go
    with it (the dashboard's browser test ends its demo with SIGTERM)."""
    proc = subprocess.Popen([sys.executable, "-m", "accord.cli", "demo"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(tmp_path))
    assert proc.stdout is not None
    for line in proc.stdout:  # wait until the run is under way, then interrupt
        if line.startswith("run 1 of"):
            break
    assert len(processes_under(tmp_path / "state")) >= 20  # 3 chains, 18 operators, 5 nodes
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    print(f"\naccord demo: exited {time.monotonic() - t0:.2f}s after SIGINT")
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert processes_under(tmp_path / "state") == []
