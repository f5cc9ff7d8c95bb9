"""How Accord's commands stop: within about a second of SIGTERM, stopping what they started.

SIGTERM (a supervisor, ``timeout``, CI, systemd) sets :data:`STOP`, which service loops wait
on, and raises SystemExit in the main thread, so every context manager unwinds and stops
what it started (chains, services, servers), each child by its pid. A watchdog makes the
bound hard: if the process is still there :data:`HARD_EXIT_S` after the signal (a handler
thread that will not return, a call stuck in C), it SIGKILLs every child still tracked and
ends the process with ``os._exit``.

Children are tracked by pid (:func:`track`, :func:`untrack`); any still tracked when the
interpreter exits are stopped then too, so an unwinding interrupted half-way leaks nothing.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import threading
import time
from types import FrameType
from typing import Any

STOP = threading.Event()
HARD_EXIT_S = 1.5  # the promise is 2 s; os._exit and the kernel need a little of it
CHILD_GRACE_S = 1.0  # a child (an Accord service, anvil) gets this long after SIGTERM

_children: set[int] = set()
_lock = threading.Lock()
_atexit_installed = False


def track(pid: int) -> None:
    """Remember a child process that must not outlive this one."""
    global _atexit_installed
    with _lock:
        _children.add(pid)
        if not _atexit_installed:
            atexit.register(_stop_tracked)
            _atexit_installed = True


def untrack(pid: int) -> None:
    """The child was stopped, or handed over (a detached devnet records its pids)."""
    with _lock:
        _children.discard(pid)


def tracked() -> list[int]:
    with _lock:
        return sorted(_children)


def install() -> None:
    """Make SIGTERM stop this process as described above (call once, from the main thread)."""
    signal.signal(signal.SIGTERM, _on_sigterm)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    if STOP.is_set():
        return  # already stopping; the watchdog keeps the bound
    STOP.set()
    threading.Thread(target=_watchdog, args=(128 + signum,), name="accord-stop-watchdog",
                     daemon=True).start()
    raise SystemExit(128 + signum)


def _watchdog(code: int) -> None:
    time.sleep(HARD_EXIT_S)  # a daemon thread: it dies with the process if that exits first
    for pid in tracked():
        _signal(pid, signal.SIGKILL)
    try:
        sys.stderr.write(f"still running {HARD_EXIT_S:.1f}s after SIGTERM; exiting now\n")
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)


def _signal(pid: int, sig: int) -> bool:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child (or reaped): ask the kernel
        return _signal(pid, 0)
    return done == 0


def stop_pids(pids: list[int], grace_s: float = CHILD_GRACE_S) -> list[int]:
    """SIGTERM every pid at once, SIGKILL those still alive after ``grace_s``; returns the
    pids that were still alive after the SIGKILL (normally none)."""
    live = [p for p in pids if _signal(p, signal.SIGTERM)]
    deadline = time.monotonic() + grace_s
    while live and time.monotonic() < deadline:
        live = [p for p in live if _alive(p)]
        if live:
            time.sleep(0.01)
    for p in live:
        _signal(p, signal.SIGKILL)
    deadline = time.monotonic() + 1.0
    while live and time.monotonic() < deadline:
        live = [p for p in live if _alive(p)]
        if live:
            time.sleep(0.01)
    return live


def _stop_tracked() -> None:
    pids = tracked()
    if pids:
        stop_pids(pids)
        with _lock:
            _children.difference_update(pids)


def stop_child(proc: subprocess.Popen[Any], timeout: float) -> None:
    """Stop a child this process started, by its own pid: SIGTERM, then SIGKILL after
    ``timeout`` seconds; returns once it is reaped."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)
