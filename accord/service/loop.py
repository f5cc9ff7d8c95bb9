"""The loop every long-running service (validator, relayer, keeper) runs: do a pass, sleep
when it did nothing, and outlive a failing pass (node down or flaky, a lost answer) by
retrying it with exponential backoff. A pass resumes from what is on chain or in the store,
so repeating one is always safe. By default a loop ends, and its waits are cut short, when
the process is told to stop (SIGTERM: accord._shutdown.STOP)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from accord.service.shutdown import STOP


def run_service(step: Callable[[], int], *, what: str, poll_s: float, first_backoff_s: float,
                max_backoff_s: float, log: logging.Logger,
                running: Callable[[], bool] = lambda: not STOP.is_set(),
                wait: Callable[[float], object] = STOP.wait,
                on_error: Callable[[], None] | None = None) -> None:
    """Call ``step`` while ``running()``; ``wait(poll_s)`` after a pass that did nothing
    (returned 0); after a failed pass, ``on_error()`` and a wait that doubles with each
    failure in a row, from ``first_backoff_s`` up to ``max_backoff_s``."""
    errors = 0
    while running():
        try:
            done = step()
            errors = 0
        except Exception as exc:  # noqa: BLE001 (a service outlives any one failure)
            errors += 1
            delay = min(first_backoff_s * 2 ** min(errors - 1, 10), max_backoff_s)
            log.warning("%s failed (%s: %s); retrying in %.2fs", what, type(exc).__name__,
                        exc, delay)
            if on_error is not None:
                on_error()
            wait(delay)
            continue
        if done == 0:
            wait(poll_s)


def until(deadline_s: float | None) -> Callable[[], bool]:
    """``running`` for a loop that stops ``deadline_s`` seconds from now (None: never), or
    when the process is told to stop."""
    if deadline_s is None:
        return lambda: not STOP.is_set()
    end = time.monotonic() + deadline_s
    return lambda: time.monotonic() < end and not STOP.is_set()
