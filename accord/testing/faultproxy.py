"""A loopback JSON-RPC proxy that injects faults between Accord's services and a node.

It forwards HTTP JSON-RPC posts to ``upstream`` and, drawing from a seeded RNG, treats a
configurable share of calls badly:

- *drop*: the connection is closed without an answer, either before the call reaches the
  node or after it did (the worst case for a transaction: sent, but the sender never learns);
- *delay*: the call waits up to ``max_delay_s`` before it is forwarded;
- *duplicate*: the call is forwarded twice and the client gets the second answer (a
  duplicated ``eth_sendRawTransaction`` answers "already known" or "nonce too low");
- *fail*: the call is not forwarded; the client gets HTTP 502 or a JSON-RPC error.

Shares are exclusive per call (their sum must be at most 1). The proxy counts what it did;
``GET /__faults__`` returns the counts as JSON. Run it in a thread (:class:`FaultProxy`, a
context manager) or as a process::

    python -m accord.testing.faultproxy --upstream http://127.0.0.1:PORT --drop 0.05 --fail 0.05

which prints ``listening http://127.0.0.1:PORT`` once it accepts calls and runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import signal
import sys
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from accord.errors import ConfigError

COUNTS_PATH = "/__faults__"
INJECTED_ERROR = {"code": -32603, "message": "fault proxy: injected failure"}
ACTIONS = ("drop", "delay", "duplicate", "fail")
# Scripted faults (FaultProxy.force): the action and, for drop and fail, which variant.
FORCED = {"drop_before": ("drop", False), "drop_after": ("drop", True),
          "delay": ("delay", False), "duplicate": ("duplicate", False),
          "fail_http": ("fail", False), "fail_rpc": ("fail", True)}


@dataclass
class FaultPlan:
    """Shares of calls to treat badly (each in [0, 1], summing to at most 1)."""

    drop: float = 0.0
    delay: float = 0.0
    duplicate: float = 0.0
    fail: float = 0.0
    max_delay_s: float = 0.3
    seed: int = 0
    # Methods never faulted (test controls such as evm_mine go straight through).
    spare_prefixes: tuple[str, ...] = ("anvil_", "evm_")
    # If set, only these methods are faulted (e.g. ("eth_sendRawTransaction",)).
    only_methods: tuple[str, ...] | None = None
    shares: dict[str, float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.shares = {a: float(getattr(self, a)) for a in ACTIONS}
        if any(not 0.0 <= s <= 1.0 for s in self.shares.values()) or \
                sum(self.shares.values()) > 1.0 + 1e-9:
            raise ConfigError(f"fault shares must each be in [0, 1] and sum to at most 1, got "
                              f"{self.shares}; lower --drop/--delay/--duplicate/--fail")

    def choose(self, rng: random.Random) -> str:
        r = rng.random()
        for action in ACTIONS:
            share = self.shares[action]
            if r < share:
                return action
            r -= share
        return "forward"


class _Upstream:
    """One keep-alive HTTP connection to the node per proxy thread."""

    def __init__(self, url: str, timeout: float) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "http" or not parsed.hostname:
            raise ConfigError(f"upstream must be an http:// URL, got {url!r}")
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.path = parsed.path or "/"
        self.timeout = timeout
        self._local = threading.local()

    def post(self, body: bytes) -> tuple[int, bytes]:
        for attempt in (0, 1):  # a stale keep-alive connection gets one fresh retry
            conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                self._local.conn = conn
            try:
                conn.request("POST", self.path, body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                return resp.status, resp.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


class FaultProxy:
    """The proxy server; ``url`` is where services should point instead of the node."""

    def __init__(self, upstream: str, plan: FaultPlan | None = None, *, port: int = 0,
                 upstream_timeout: float = 30.0) -> None:
        self.plan = plan or FaultPlan()
        self.upstream_url = upstream
        self._upstream = _Upstream(upstream, upstream_timeout)
        self._rng = random.Random(self.plan.seed)  # noqa: S311 (fault draws, not crypto)
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.enabled = True
        self._forced: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name=f"faultproxy-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def force(self, *actions: str) -> None:
        """Apply ``actions`` (keys of FORCED) to the next faultable calls, in order, before
        any random draw: deterministic faults for unit tests."""
        unknown = [a for a in actions if a not in FORCED]
        if unknown:
            raise ConfigError(f"unknown forced faults {unknown}; use {sorted(FORCED)}")
        with self._lock:
            self._forced.extend(actions)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)

    # -- decisions --------------------------------------------------------------------------
    def _decide(self, methods: list[str]) -> tuple[str, float, bool]:
        """(action, delay seconds, drop after forwarding?) for one HTTP call."""
        with self._lock:
            self.counts["calls"] += 1
            only = self.plan.only_methods
            spared = not self.enabled or any(
                m.startswith(self.plan.spare_prefixes) for m in methods) or (
                only is not None and not any(m in only for m in methods))
            if spared:
                action, after = "forward", False
            elif self._forced:
                action, after = FORCED[self._forced.pop(0)]
            else:
                action, after = self.plan.choose(self._rng), self._rng.random() < 0.5
            delay = self._rng.uniform(0, self.plan.max_delay_s) if action == "delay" else 0.0
            self.counts[{"drop": "dropped", "delay": "delayed", "duplicate": "duplicated",
                         "fail": "failed", "forward": "forwarded"}[action]] += 1
            if action in ("drop", "fail"):
                self.counts[f"{action}_{'after' if after else 'before'}"] += 1
            return action, delay, after

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path != COUNTS_PATH:
                    self._reply(404, b"")
                    return
                self._reply(200, json.dumps(proxy.snapshot()).encode())

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                action, delay, after = proxy._decide(_methods(body))
                if action == "drop" and not after:
                    self._drop()
                    return
                if action == "fail":
                    # "after": a JSON-RPC error (the client sees a failed call); "before": a
                    # gateway error (HTTP 502), neither reaches the node.
                    if after:
                        self._reply(200, _error_reply(body))
                    else:
                        self._reply(502, b"Bad Gateway")
                    return
                if delay:
                    time.sleep(delay)
                try:
                    status, answer = proxy._upstream.post(body)
                    if action == "duplicate":
                        status, answer = proxy._upstream.post(body)
                except (OSError, http.client.HTTPException):
                    with proxy._lock:
                        proxy.counts["upstream_errors"] += 1
                    self._reply(502, b"upstream unreachable")
                    return
                if action == "drop":
                    self._drop()
                    return
                self._reply(status, answer)

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _drop(self) -> None:
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    pass

            def log_message(self, *args: Any) -> None:
                return

        return Handler


def _methods(body: bytes) -> list[str]:
    try:
        req = json.loads(body)
    except ValueError:
        return []
    items = req if isinstance(req, list) else [req]
    return [str(r.get("method", "")) for r in items if isinstance(r, dict)]


def _error_reply(body: bytes) -> bytes:
    try:
        req = json.loads(body)
    except ValueError:
        req = {}
    items = req if isinstance(req, list) else [req]
    out = [{"jsonrpc": "2.0", "id": r.get("id") if isinstance(r, dict) else None,
            "error": INJECTED_ERROR} for r in items]
    return json.dumps(out if isinstance(req, list) else out[0]).encode()


def fetch_counts(url: str, timeout: float = 5.0) -> dict[str, int]:
    """The counts of a proxy (thread or process) at ``url``."""
    import urllib.request

    with urllib.request.urlopen(url.rstrip("/") + COUNTS_PATH,  # noqa: S310 (loopback)
                                timeout=timeout) as resp:
        return {str(k): int(v) for k, v in json.loads(resp.read()).items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m accord.faultproxy", description=__doc__.split(
        "\n\n")[0])
    p.add_argument("--upstream", required=True, help="the node's http:// JSON-RPC URL")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 [default: free]")
    p.add_argument("--seed", type=int, default=0,
                   help="random seed: the same seed makes the same choices [default: 0]")
    p.add_argument("--max-delay", type=float, default=0.3, help="seconds, for --delay")
    for action in ACTIONS:
        p.add_argument(f"--{action}", type=float, default=0.0,
                       help=f"share of calls to {action}, 0..1 (0.1 = 10%%) [default: 0]")
    a = p.parse_args(argv)
    try:
        plan = FaultPlan(drop=a.drop, delay=a.delay, duplicate=a.duplicate, fail=a.fail,
                         max_delay_s=a.max_delay, seed=a.seed)
        proxy = FaultProxy(a.upstream, plan, port=a.port)
    except (ConfigError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with proxy:
        print(f"listening {proxy.url}", flush=True)
        stop.wait()
        print(json.dumps(proxy.snapshot()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
