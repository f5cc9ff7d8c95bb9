"""An ``accord results serve`` process for tests and benchmarks: on a free loopback port,
with its own blob directory and token, stopped by its own process id."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

from accord.errors import AccordError
from accord.service import shutdown
from accord.workflows.result_store import TOKEN_ENV

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0


class ResultService:
    """``with ResultService(folder) as svc: svc.url, svc.token``; ``stop()`` ends it early
    (a server going away mid-run)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.token = secrets.token_hex(16)
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None
        self._lines: list[str] = []

    def start(self) -> ResultService:
        self.folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, TOKEN_ENV: self.token}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "accord.cli", "results", "serve", "--port", "0",
             "--dir", str(self.folder / "blobs")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        ready = threading.Event()
        threading.Thread(target=self._read, args=(ready,), daemon=True).start()
        if not ready.wait(READY_TIMEOUT_S) or not self.url:
            self.stop()
            raise AccordError(f"the result service did not start: {' | '.join(self._lines)}")
        return self

    def _read(self, ready: threading.Event) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.append(line.rstrip())
            if line.startswith("results: ") and not self.url:
                self.url = line.split()[1]
                ready.set()
        ready.set()  # the process ended

    @property
    def blobs(self) -> Path:
        return self.folder / "blobs"

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT_S; by this object's own pid."""
        if self.proc is not None:
            shutdown.stop_child(self.proc, STOP_TIMEOUT_S)

    def __enter__(self) -> ResultService:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
