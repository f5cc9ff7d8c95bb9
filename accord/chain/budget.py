"""A JSON-RPC request budget: at most ``per_s`` requests per second to one endpoint, for
operators on rate-limited public RPCs. One budget per client, shared by its synchronous
(web3.py) and asynchronous (agents) sides, so the sum never exceeds it."""

from __future__ import annotations

import asyncio
import threading
import time


class RequestBudget:
    """A token bucket of one second's worth: a burst of ``per_s`` requests, then ``per_s`` a
    second. A batch counts each of its calls. A caller over budget waits for its turn (its
    place is reserved, so waiting callers keep their order). ``None``: no limit, only
    counting (``sent``)."""

    def __init__(self, per_s: float | None = None) -> None:
        if per_s is not None and per_s <= 0:
            raise ValueError(f"a request budget must be positive, not {per_s}")
        self.per_s = per_s
        self.sent = 0  # requests counted so far
        self._tokens = per_s or 0.0
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def reserve(self, n: int = 1) -> float:
        """Count ``n`` requests; returns how long to wait before sending them."""
        with self._lock:
            self.sent += n
            if self.per_s is None:
                return 0.0
            now = time.monotonic()
            self._tokens = min(self.per_s, self._tokens + (now - self._at) * self.per_s)
            self._at = now
            self._tokens -= n
            return 0.0 if self._tokens >= 0 else -self._tokens / self.per_s

    def wait(self, n: int = 1) -> None:
        """Block until ``n`` requests may go."""
        delay = self.reserve(n)
        if delay:
            time.sleep(delay)

    async def take(self, n: int = 1) -> None:
        """Wait (without blocking the loop) until ``n`` requests may go."""
        delay = self.reserve(n)
        if delay:
            await asyncio.sleep(delay)
