"""Child processes of Accord's own commands (validators, relayers, agents), each with a log
file, stopped by its own pid: politely (SIGTERM), then firmly (SIGKILL), also on Ctrl-C and
SIGTERM (then within accord._shutdown's bound: every child is signalled at once and gets
CHILD_GRACE_S)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from accord.service import shutdown as _shutdown


class Supervisor:
    """Starts ``python -m accord.cli ...`` processes and always stops them."""

    def __init__(self, log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.log_dir = log_dir
        self.env = dict(os.environ if env is None else env)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> int:
        """Start ``accord <args>`` as ``name``; returns its pid."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (closed in stop)
        proc = subprocess.Popen([sys.executable, "-m", "accord.cli", *args],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**self.env, **(env or {})}, start_new_session=True)
        _shutdown.track(proc.pid)
        self.procs[name] = proc
        self._logs[name] = log
        return proc.pid

    def alive(self, name: str) -> bool:
        return name in self.procs and self.procs[name].poll() is None

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash would."""
        proc = self.procs.pop(name)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        _shutdown.untrack(proc.pid)
        self._logs.pop(name).close()

    def stop(self, name: str, timeout: float = 5.0) -> None:
        proc = self.procs.pop(name)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        _shutdown.untrack(proc.pid)
        self._logs.pop(name).close()

    def stop_all(self, timeout: float = 5.0) -> None:
        """Signal every child first, then wait for them all within one ``timeout`` (the
        shorter CHILD_GRACE_S once this process has been told to stop)."""
        if _shutdown.STOP.is_set():
            timeout = min(timeout, _shutdown.CHILD_GRACE_S)
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + timeout
        for name in list(self.procs):
            self.stop(name, timeout=max(0.0, deadline - time.monotonic()))

    def log_tail(self, name: str, lines: int = 5) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.is_file():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
