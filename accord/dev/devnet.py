"""Named local anvil chains with their own chain ids, and forks of them.

One implementation for the pytest fixtures, ``ape run devnet`` and ``accord devnet``. Every
chain runs on a free loopback port, is waited for until it answers, and is stopped by its own
process id (on normal exit, on Ctrl-C, and when a test fails: use :class:`Devnet` as a
context manager; on SIGTERM, see accord._shutdown). ``detach=True`` leaves the chains
running after the process ends; their pids are recorded in the devnet manifest so that
:func:`stop_recorded` can stop them later, and :meth:`Devnet.release` hands them over to it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from accord.chain.accounts import DEV_ACCOUNTS, DEV_MNEMONIC
from accord.errors import DevnetError
from accord.paths import (
    EVM_VERSION,
    NetworkSpec,
    anvil_executable,
    devnet_spec,
    devnet_specs,
    state_dir,
)
from accord.service import shutdown as _shutdown

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
MANIFEST_NAME = "devnet.json"

#: A devnet people use (``accord devnet up``, the demo) mines a block every this many seconds
#: even when idle, besides a block per transaction (anvil ``--mixed-mining``): anvil's clock
#: is the latest block's timestamp, so without it leases, backoffs and deadlines stand still
#: on an idle chain. The test fixtures leave it off: they mine and travel in time explicitly
#: (``evm_increaseTime``/``evm_mine``) and count blocks.
LIVE_BLOCK_TIME_S = 1


@dataclass
class Chain:
    """A running local chain."""

    name: str
    chain_id: int
    port: int
    rpc_url: str
    pid: int
    log_path: str
    fork_of: str | None = None
    fork_block: int | None = None

    @property
    def ws_url(self) -> str:
        """anvil serves WebSocket on the same port as HTTP."""
        return self.rpc_url.replace("http://", "ws://", 1)


def free_port() -> int:
    """A loopback TCP port that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def rpc(url: str, method: str, params: list[Any] | None = None, timeout: float = 5.0) -> Any:
    """One JSON-RPC call over HTTP with the standard library (no web3 import needed)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    req = urllib.request.Request(  # noqa: S310 (the devnet's own loopback URL)
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
        reply = json.loads(resp.read())
    if "error" in reply:
        raise DevnetError(f"{method} on {url} failed: {reply['error'].get('message')}")
    return reply["result"]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return _proc_state(pid) not in ("Z", None)


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _is_anvil(pid: int) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(cmd) and cmd[0].endswith(b"anvil")


def stop_pid(pid: int, timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM, then SIGKILL after ``timeout``; returns once the process is gone."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        # the kernel needs a moment to reap a SIGKILLed process, however short ``timeout``
        deadline = time.monotonic() + (timeout if sig == signal.SIGTERM else max(timeout, 1.0))
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return
            time.sleep(0.02)
    if _pid_alive(pid):
        raise DevnetError(f"anvil (pid {pid}) did not stop; kill it by hand: kill -9 {pid}")


class Devnet:
    """Starts and stops local chains; a context manager that always cleans up."""

    def __init__(self, *, detach: bool = False, log_dir: Path | None = None,
                 live_clock: bool = False) -> None:
        """``live_clock``: every chain it starts also mines a block each LIVE_BLOCK_TIME_S
        seconds, so block time follows the wall clock on an idle chain (transactions are
        still mined at once)."""
        self.detach = detach
        self.live_clock = live_clock
        self.log_dir = log_dir or (state_dir() / "logs")
        self.chains: dict[str, Chain] = {}
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> Devnet:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.detach:
            self.stop_all()

    def start(
        self,
        name: str,
        *,
        chain_id: int | None = None,
        port: int | None = None,
        fork_url: str | None = None,
        fork_block: int | None = None,
        block_time: float | None = None,
        extra_args: list[str] | None = None,
    ) -> Chain:
        """Start one chain and wait until it answers ``eth_chainId``.

        ``chain_id`` defaults to the id ape-config.yaml gives ``name``; a fork keeps its
        upstream's chain id unless one is given.
        """
        if name in self.chains:
            raise DevnetError(f"a chain named '{name}' is already running in this devnet")
        if chain_id is None and fork_url is None:
            chain_id = devnet_spec(name).chain_id
        if block_time is None and fork_url is None:  # the network's own rules, if it has any
            from accord import settings

            block_time = settings.load().network(name).block_time
        attempts = 1 if port is not None else 5
        last_error: Exception | None = None
        for _ in range(attempts):
            use_port = port if port is not None else free_port()
            try:
                return self._start_once(
                    name, chain_id, use_port, fork_url, fork_block, block_time, extra_args
                )
            except DevnetError as exc:  # most likely a port race; try another port
                last_error = exc
        raise DevnetError(f"could not start chain '{name}': {last_error}")

    def fork(self, upstream: Chain | str, *, name: str | None = None,
             block: int | None = None) -> Chain:
        """Fork a running chain (a :class:`Chain` or an RPC URL) into a new local chain."""
        url = upstream.rpc_url if isinstance(upstream, Chain) else upstream
        up_name = upstream.name if isinstance(upstream, Chain) else "upstream"
        chain = self.start(name or f"{up_name}-fork", fork_url=url, fork_block=block)
        chain.fork_of = up_name
        return chain

    def _start_once(self, name: str, chain_id: int | None, port: int, fork_url: str | None,
                    fork_block: int | None, block_time: float | None,
                    extra_args: list[str] | None) -> Chain:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"anvil-{name}-{port}.log"
        args = [
            anvil_executable(), "--host", "127.0.0.1", "--port", str(port),
            "--hardfork", EVM_VERSION, "--mnemonic", DEV_MNEMONIC,
            "--accounts", str(DEV_ACCOUNTS),
        ]
        if chain_id is not None:
            args += ["--chain-id", str(chain_id)]
        if fork_url:
            args += ["--fork-url", fork_url, "--no-storage-caching"]
            if fork_block is not None:
                args += ["--fork-block-number", str(fork_block)]
        if block_time:
            args += ["--block-time", str(block_time)]
        elif self.live_clock:
            args += ["--block-time", str(LIVE_BLOCK_TIME_S), "--mixed-mining"]
        args += extra_args or []
        with open(log_path, "wb") as log:
            # A new session: a Ctrl-C in the terminal reaches us, not anvil, and we stop it.
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        _shutdown.track(proc.pid)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
                _shutdown.untrack(proc.pid)
                raise DevnetError(f"anvil exited with {proc.returncode}: {' | '.join(tail)}")
            try:
                got = int(rpc(url, "eth_chainId", timeout=1.0), 16)
                break
            except (urllib.error.URLError, ConnectionError, OSError, DevnetError):
                if time.monotonic() > deadline:
                    proc.kill()
                    proc.wait()
                    _shutdown.untrack(proc.pid)
                    raise DevnetError(f"anvil on port {port} did not answer within "
                                      f"{READY_TIMEOUT_S:.0f}s; see {log_path}") from None
                time.sleep(0.05)
        chain = Chain(name=name, chain_id=got, port=port, rpc_url=url, pid=proc.pid,
                      log_path=str(log_path), fork_block=fork_block)
        self.chains[name] = chain
        self._procs[name] = proc
        return chain

    def stop(self, name: str, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop one chain by its process id."""
        chain = self.chains.pop(name)
        proc = self._procs.pop(name, None)
        stop_pid(chain.pid, timeout)
        if proc is not None:
            proc.wait()
        _shutdown.untrack(chain.pid)

    def stop_all(self) -> None:
        """SIGTERM every chain at once, then wait for each within one shared timeout (the
        shorter CHILD_GRACE_S once this process has been told to stop)."""
        timeout = _shutdown.CHILD_GRACE_S if _shutdown.STOP.is_set() else STOP_TIMEOUT_S
        for chain in self.chains.values():
            try:
                os.kill(chain.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        for name in list(self.chains):
            self.stop(name, max(0.05, deadline - time.monotonic()))

    def release(self) -> None:
        """Hand the chains over to the manifest: they outlive this process (detach)."""
        for chain in self.chains.values():
            _shutdown.untrack(chain.pid)

    def restart(self, name: str) -> Chain:
        """Stop a chain and start a fresh one with the same name, id and port (state lost)."""
        old = self.chains[name]
        self.stop(name)
        return self.start(name, chain_id=old.chain_id, port=old.port)

    # -- manifest ----------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        return {"chains": {n: asdict(c) for n, c in self.chains.items()}}

    def write_manifest(self, path: Path | None = None) -> Path:
        path = path or manifest_path()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.manifest(), indent=2) + "\n")
        tmp.replace(path)  # atomic: a reader never sees half a manifest
        return path


def manifest_path() -> Path:
    return state_dir() / MANIFEST_NAME


def read_manifest(path: Path | None = None) -> dict[str, Chain]:
    """The chains a detached devnet recorded; empty if there is no manifest."""
    path = path or manifest_path()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
        return {n: Chain(**c) for n, c in data.get("chains", {}).items()}
    except (ValueError, TypeError) as exc:
        raise DevnetError(f"devnet manifest {path} is unreadable ({exc}); delete it and "
                          "run 'accord devnet up' again") from exc


def chain_alive(chain: Chain) -> bool:
    """The recorded process is an anvil that still answers with the recorded chain id."""
    if not (_pid_alive(chain.pid) and _is_anvil(chain.pid)):
        return False
    try:
        return int(rpc(chain.rpc_url, "eth_chainId", timeout=1.0), 16) == chain.chain_id
    except (urllib.error.URLError, OSError, DevnetError):
        return False


def stop_recorded(path: Path | None = None) -> list[str]:
    """Stop every chain a detached devnet recorded (only pids that are still anvil)."""
    path = path or manifest_path()
    stopped = []
    for name, chain in read_manifest(path).items():
        if _pid_alive(chain.pid) and _is_anvil(chain.pid):
            stop_pid(chain.pid)
            stopped.append(name)
    if path.exists():
        path.unlink()
    return stopped


# -- accord devnet up ---------------------------------------------------------------------------
def up(names: Sequence[str] = (), *, any_port: bool = False,
       echo: Callable[[str], None] = print) -> Path:
    """Start the named chains (every chain of ape-config.yaml when none is named), detached,
    each recorded in the manifest as soon as it answers; returns the manifest's path.

    A chain goes on its ape-config.yaml port when that is free (any free port otherwise, or
    with ``any_port``). If a chain cannot start, or this process is told to stop, the chains
    this call started are stopped again; one that will not stop stays in the manifest, so
    ``accord devnet down`` and ``status`` still know it. Never a chain running unknown.
    """
    specs = {n: devnet_spec(n) for n in names or sorted(devnet_specs())}  # all known first
    path = manifest_path()
    net = Devnet(detach=True, live_clock=True)
    net.chains.update({n: c for n, c in read_manifest(path).items() if chain_alive(c)})
    started: list[str] = []
    try:
        for name, spec in specs.items():
            if name in net.chains:
                echo(f"{name}: already running at {net.chains[name].rpc_url}")
                continue
            chain = _start_on_default_port(net, spec) if not any_port else net.start(name)
            started.append(name)
            net.write_manifest(path)
            echo(f"{name}: chain id {chain.chain_id} at {chain.rpc_url} (pid {chain.pid})")
    except BaseException as exc:
        stopped, stuck = _stop_started(net, started)
        net.write_manifest(path)  # what still runs, and only that
        if not isinstance(exc, DevnetError):
            raise
        done = []
        if stopped:
            done.append(f"stopped {', '.join(stopped)} again")
        if stuck:
            done.append(f"{', '.join(stuck)} would not stop and stays recorded in {path} "
                        "('accord devnet down' stops it)")
        raise DevnetError("; ".join([str(exc), *done])) from None
    net.write_manifest(path)
    net.release()
    return path


def _start_on_default_port(net: Devnet, spec: NetworkSpec) -> Chain:
    port = None
    if spec.default_uri:
        default = int(spec.default_uri.rsplit(":", 1)[1].split("/")[0])
        port = default if port_is_free(default) else None
    if port is None:
        return net.start(spec.name)
    try:
        return net.start(spec.name, port=port)
    except DevnetError:  # taken since we looked, most likely: any free port will do
        return net.start(spec.name)


def _stop_started(net: Devnet, names: list[str]) -> tuple[list[str], list[str]]:
    """Stop the chains ``names``; returns (stopped, still running and kept in ``net``)."""
    timeout = _shutdown.CHILD_GRACE_S if _shutdown.STOP.is_set() else STOP_TIMEOUT_S
    stopped, stuck = [], []
    for name in names:
        chain = net.chains[name]
        try:
            net.stop(name, timeout)
            stopped.append(name)
        except DevnetError:
            net.chains[name] = chain
            stuck.append(name)
    return stopped, stuck
