"""The dashboard server without a demo: JSON endpoints, headers, the event stream, chains that
appear later or stop answering, and the one-line errors of `accord dashboard`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from accord.cli import cli
from accord.dashboard import server as srv
from accord.dashboard.data import Dashboard
from accord.dashboard.server import DashboardServer
from accord.dashboard.source import Source
from accord.dev.devnet import Chain, Devnet, free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return tmp_path / "state" / "devnet.json"


@pytest.fixture
def served(manifest: Path) -> Iterator[DashboardServer]:
    server = DashboardServer(Dashboard(Source(manifest)), "127.0.0.1", 0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _json(server: DashboardServer, path: str) -> Any:
    status, _, body = _get(server.url.rstrip("/") + path)
    assert status == 200, body
    return json.loads(body)


def _write_manifest(path: Path, chains: dict[str, Chain]) -> None:
    net = Devnet()
    net.chains.update(chains)
    path.parent.mkdir(parents=True, exist_ok=True)
    net.write_manifest(path)


def _until(fn: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError("condition never held")


def test_endpoints_answer_empty_lists_before_any_chain_exists(served: DashboardServer) -> None:
    for path in ("/api/chains", "/api/runs", "/api/agents", "/api/messages"):
        assert _json(served, path) == []


def test_unknown_run_is_404(served: DashboardServer) -> None:
    assert _get(served.url + "api/runs/chaina/1")[0] == 404
    assert _get(served.url + "api/runs/chaina/x")[0] == 404


def test_page_and_bundle_are_served_with_a_strict_content_security_policy(
        served: DashboardServer) -> None:
    status, headers, body = _get(served.url)
    assert status == 200 and b'<script src="/static/app.js"' in body
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, body = _get(served.url + "static/app.js")
    assert status == 200 and len(body) > 100_000  # cytoscape and dagre are inside
    assert _get(served.url + "static/app.css")[0] == 200


def test_a_foreign_host_header_is_refused(served: DashboardServer) -> None:
    assert _get(served.url + "api/runs", {"Host": f"evil.example:{served.port}"})[0] == 403
    assert _get(served.url + "api/runs", {"Host": f"localhost:{served.port}"})[0] == 200


def test_event_stream_sends_a_changed_event_at_once(served: DashboardServer) -> None:
    with urllib.request.urlopen(served.url + "api/events", timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        lines = [resp.readline().decode().strip() for _ in range(3)]
    assert lines[0] == "event: changed"
    data = json.loads(lines[2].removeprefix("data: "))
    assert data["version"] >= 0 and data["chains"] == []


def test_a_chain_that_appears_later_shows_up_and_a_dead_one_shows_offline(
        served: DashboardServer, manifest: Path, chaina: Chain) -> None:
    dead = Chain("ghost", 99, free_port(), "", 0, "")
    dead.rpc_url = f"http://127.0.0.1:{dead.port}"
    _write_manifest(manifest, {"chaina": chaina, "ghost": dead})
    chains = _until(lambda: (c := _json(served, "/api/chains")) and len(c) == 2 and c)
    by_name = {c["name"]: c for c in chains}
    assert by_name["chaina"]["online"] and by_name["chaina"]["chainId"] == chaina.chain_id
    assert by_name["chaina"]["head"] >= 0 and not by_name["chaina"]["deployed"]
    assert not by_name["ghost"]["online"]
    assert _json(served, "/api/runs") == []  # nothing deployed: nothing to read, no error


def test_missing_bundle_is_a_one_line_error_that_says_make_setup(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(srv, "BUNDLE", tmp_path / "app.js")
    result = CliRunner().invoke(cli, ["dashboard", "--port", "0", "--manifest",
                                      str(tmp_path / "devnet.json")])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "make setup" in lines[0]


def test_a_busy_port_is_a_one_line_error(served: DashboardServer, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["dashboard", "--port", str(served.port), "--manifest",
                                      str(tmp_path / "devnet.json")])
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot serve the dashboard") and "--port" in result.output


def test_accord_dashboard_prints_its_url_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {**os.environ, "ACCORD_STATE_DIR": str(tmp_path / "state"), "PYTHONUNBUFFERED": "1"}
    # A shell's background job ignores SIGINT and children inherit that: restore the default
    # so the child sees Ctrl-C as a terminal would deliver it.
    proc = subprocess.Popen([sys.executable, "-m", "accord.cli", "dashboard", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=ROOT, preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                                       signal.SIG_DFL))
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("dashboard: http://127.0.0.1:"), line + (proc.stderr.read()
                                                                         if proc.stderr else "")
        url = line.split()[1]
        assert _get(url + "api/runs")[0] == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "dashboard stopped" in out and "Traceback" not in err
