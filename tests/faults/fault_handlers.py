"""Agent handlers for the fault tests, loaded by ``accord agents run`` processes (their
PYTHONPATH includes this folder)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from accord.agents.handlers import StepInput


def hang_once(inp: StepInput) -> bytes:
    """Step ``s0`` hangs the first time any process runs it (the marker file in
    ``FAULTS_MARKER`` says it happened), so its agent holds the lease until killed; every
    other call returns at once."""
    marker = Path(os.environ["FAULTS_MARKER"])
    if inp.name == "s0" and not marker.exists():
        marker.write_text(f"{os.getpid()} {inp.agent_id}\n")
        time.sleep(600)
    return f"{inp.name}:{inp.attempt}:{inp.input.decode()}".encode()


def work(inp: StepInput) -> bytes:
    """A handler that just answers."""
    return f"{inp.name}:{inp.attempt}:{inp.input.decode()}".encode()
