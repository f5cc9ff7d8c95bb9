"""What the multi-process relay tests share: waiting on a deadline, and what a recipient got."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(pred: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``pred`` every 0.1 s until it holds; AssertionError naming ``what`` at ``timeout``."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def received_ids(side: Any) -> list[str]:
    """The message ids the side's MockCountingRecipient logged, in order (repeats kept)."""
    contract = side.client.contract("MockCountingRecipient", side.recipient)
    return ["0x" + bytes(e["args"]["id"]).hex()
            for e in contract.events.Received().get_logs(from_block=0)]
