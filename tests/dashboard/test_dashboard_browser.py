"""`accord demo --dashboard` watched in headless Chromium: the run appears, its graph has every
step, the states change to Done, a message shows delivered; the page works at 1280x800 and
400 px wide; and an agent registered with HTML in its URI and metadata runs no script.

One demo and one browser session serve every test of this module (module-scoped fixtures);
each test asserts one behaviour of what the browser recorded.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
XSS_URI = '<img src=x onerror="window.__xss=1;alert(1)">'
XSS_KEY = "<b onmouseover=alert(2)>description</b>"
XSS_VALUE = "<script>window.__xss=2;alert(3)</script>"
HOSTILE_ACCOUNT = 1  # a dev account the demo leaves unused on chaina


@dataclass
class Demo:
    proc: subprocess.Popen[str]
    state: Path
    gate: Path  # the demo's work steps wait until this exists (the page has seen the graph)
    lines: list[str] = field(default_factory=list)
    url: str = ""

    def wait_for(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for line in self.lines[seen:]:
                m = re.search(pattern, line)
                if m:
                    return m
            seen = max(0, len(self.lines) - 1)
            if self.proc.poll() is not None and not any(re.search(pattern, x)
                                                        for x in self.lines):
                break
            time.sleep(0.05)
        raise AssertionError(f"demo never printed /{pattern}/:\n" + "\n".join(self.lines[-30:]))

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=60) as resp:
            return json.loads(resp.read())


def _register_hostile_agent(state: Path) -> int:
    """An ERC-8004 identity whose URI and metadata are HTML that would run script."""
    from accord.chain.client import Client
    from accord.chain.accounts import dev_account
    from accord.deploy.plan import read_manifest as read_deployment
    from accord.dev.devnet import read_manifest
    from web3.logs import DISCARD

    chaina = read_manifest(state / "devnet.json")["chaina"]
    contracts = read_deployment(state / "deployments" / "ethereum_chaina.json")["contracts"]
    client = Client(chaina.rpc_url)
    registry = client.contract("IdentityRegistry", contracts["identity"]["address"])
    fn = registry.get_function_by_signature("register(string,(string,bytes)[])")(
        XSS_URI, [(XSS_KEY, XSS_VALUE.encode())])
    receipt = client.transact(fn, dev_account(HOSTILE_ACCOUNT))
    events = registry.events.Registered().process_receipt(receipt, errors=DISCARD)
    return int(events[0]["args"]["agentId"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`accord demo --dashboard --dashboard-port 0`, held open after the run; stopped by its
    pid with SIGTERM (which stops its chains, services and dashboard)."""
    root = tmp_path_factory.mktemp("dashdemo")
    env = {**os.environ, "ACCORD_STATE_DIR": str(root / "state"), "PYTHONUNBUFFERED": "1",
           "ACCORD_DEMO_GATE": str(root / "page-saw-the-graph"),
           # the page has seen every step before work starts (the gate): a short pace will do
           "ACCORD_DEMO_PACE_S": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "accord.cli", "demo", "--dashboard",
                             "--dashboard-port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    d = Demo(proc, root / "state" / "demo", gate=root / "page-saw-the-graph")

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            d.lines.append(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    try:
        d.url = d.wait_for(r"^dashboard: (http://\S+)$", 60).group(1)
        yield d
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def seen(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Start the browser at once, register the hostile agent once the suite is deployed, and
    collect what the browser saw. The demo's work steps wait until the page has seen the whole
    graph (the driver then creates ``demo.gate``), so the page sees steps change state however
    slowly the browser starts on a busy machine."""
    ARTIFACTS.mkdir(exist_ok=True)
    cfg = {"url": demo.url, "artifacts": str(ARTIFACTS),
           "userDataDir": str(tmp_path_factory.mktemp("chromium-profile")),
           "xss": {"uri": XSS_URI, "metaKey": XSS_KEY, "metaValue": XSS_VALUE},
           "timeoutMs": 120_000, "gateFile": str(demo.gate)}
    node = subprocess.Popen(["node", str(Path(__file__).with_name("drive.js")),
                             json.dumps(cfg)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    try:
        demo.wait_for(r"^started \d+ operators", 120)
        _register_hostile_agent(demo.state)
        out, err = node.communicate(timeout=300)
    finally:
        if node.poll() is None:
            node.kill()
            node.wait()
    assert out, f"the browser driver printed nothing; stderr: {err[-2000:]}"
    result: dict[str, Any] = json.loads(out)
    assert result.get("ok"), (result.get("error"), demo.lines[-20:], err[-2000:])
    return result


def test_the_demo_run_appears(seen: dict[str, Any]) -> None:
    assert seen["runKey"] == "chaina/1"


def test_the_graph_shows_every_step_with_its_dependencies(seen: dict[str, Any]) -> None:
    names = [n["name"] for n in seen["graphNodes"]]
    assert sorted(names) == sorted(seen["steps"])
    assert len(seen["steps"]) == 8
    # research -> 3 analyses -> synthesis (3) -> execute, audit -> report (2)
    assert seen["graphEdges"] == 3 + 3 + 2 + 2


def test_step_states_change_until_every_step_is_done(seen: dict[str, Any]) -> None:
    assert all(s == "Done" for _, s in seen["stepRows"])
    assert all(n["state"] == "Done" for n in seen["graphNodes"])
    changed = [name for name, states in seen["seen"].items() if len(states) > 1]
    assert changed, f"no state change observed: {seen['seen']} (timeline {seen['timeline']})"
    assert any(s in ("Blocked", "Ready") for states in seen["seen"].values()
               for s in states), f"{seen['seen']} (timeline {seen['timeline']})"


def test_a_cross_chain_message_shows_delivered(seen: dict[str, Any]) -> None:
    assert len(seen["delivered"]) >= 2  # the task to chainb and its result back
    assert any("chaina → chainb" in row for row in seen["delivered"])


def test_agent_uri_and_metadata_show_as_text_and_run_no_script(seen: dict[str, Any]) -> None:
    x = seen["xss"]
    assert x["uri"] == XSS_URI
    assert f"{XSS_KEY}: {XSS_VALUE}" in x["meta"]
    assert x["flag"] is None and x["flagAfter"] is None
    assert x["imgs"] == 0 and x["injected"] == 0
    assert seen["dialogs"] == []
    assert all(s.endswith("/static/app.js") for s in x["scripts"])


def test_page_loads_nothing_from_elsewhere_and_throws_nothing(seen: dict[str, Any]) -> None:
    assert seen["foreignRequests"] == []
    assert seen["pageErrors"] == []


def test_page_fits_a_narrow_window_and_screenshots_are_saved(seen: dict[str, Any]) -> None:
    assert seen["narrow"]["scrollWidth"] <= 400
    assert seen["narrow"]["nodes"] == 8
    assert 300 < seen["narrow"]["graphWidth"] <= 400
    for path in seen["screenshots"]:
        assert Path(path).stat().st_size > 10_000


def test_api_describes_runs_steps_agents_and_messages(demo: Demo, seen: dict[str, Any]) -> None:
    runs = demo.get("/api/runs")
    home = next(r for r in runs if r["chain"] == "chaina" and r["id"] == 1)
    assert home["state"] == "Completed" and home["done"] == home["steps"] == 8
    assert home["workflow"] == "demo" and not home["remote"]
    assert any(r["chain"] == "chainb" and r["remote"] for r in runs)  # the execute step's run
    run = demo.get("/api/runs/chaina/1")
    execute = next(s for s in run["steps"] if s["name"] == "execute")
    assert execute["chain"] == "chainb" and execute["deps"] == [4]
    report = next(s for s in run["steps"] if s["name"] == "report")
    assert report["approvals"] >= report["quorum"] > 0 and report["result"].startswith("0x")
    # execute on chainb and audit on chainc: a task out and a result back for each
    assert [m["status"] for m in run["messages"]] == ["delivered"] * 4
    agents = demo.get("/api/agents")
    researcher = next(a for a in agents if a["name"] == "researcher")
    assert researcher["roles"] == [{"role": "research", "bond": str(10**16)}]
    assert researcher["live"] and researcher["reputation"]["count"] >= 1
    # the coordinator's own identity (it signs feedback) is not listed as a worker
    assert all(a["name"] != "coordinator" for a in agents), agents
    messages = demo.get("/api/messages")
    assert {m["status"] for m in messages} == {"delivered"}
    assert all(m["latency"] is not None and m["signers"] >= 2 for m in messages)
    assert all("run 1" in m["label"] for m in messages)


def test_sigterm_after_the_run_stops_the_demo_and_everything_it_started(demo: Demo) -> None:
    """The last test of the module: the held demo, its chains, operators, IPFS nodes and
    dashboard all stop on SIGTERM."""
    from accord.testing.processes import processes_under

    assert processes_under(demo.state.parent)  # still up: held for the page
    demo.proc.send_signal(signal.SIGTERM)
    demo.proc.wait(60)
    assert demo.proc.returncode == 143
    assert processes_under(demo.state.parent) == []
