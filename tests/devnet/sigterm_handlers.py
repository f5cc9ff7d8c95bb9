"""An agent handler for test_sigterm.py, loaded by an ``accord agents run`` process (its
PYTHONPATH includes this folder)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from accord.agents.handlers import StepInput


def slow(inp: StepInput) -> bytes:
    """Says it started (the file in ``SIGTERM_HANDLER_MARKER``), then takes ten minutes, as a
    slow model call would."""
    Path(os.environ["SIGTERM_HANDLER_MARKER"]).write_text(f"{os.getpid()}\n")
    time.sleep(600)
    return inp.name.encode()
