"""Child processes of Accord's own commands (validators, relayers, agents), each with a log
file, stopped by its own pid: politely (SIGTERM), then firmly (SIGKILL), also on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO


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
        self._logs.pop(name).close()

    def stop_all(self) -> None:
        for proc in self.procs.values():  # signal all first, then wait: faster shutdown
            if proc.poll() is None:
                proc.terminate()
        for name in list(self.procs):
            self.stop(name)

    def log_tail(self, name: str, lines: int = 5) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.is_file():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
