"""One loader of step inputs, shared by the executor and the judges of a host.

A step's input is the run's input plus the results of its done dependencies, each fetched
from the result store and checked against the hash the chain holds. Both are fixed once the
step is ready, so they are loaded once per step and run: every judge of a submitted step (and
its executor before them) reads the same bytes, and judges that start together wait on one
load instead of each re-reading ``runInfo`` and every dependency's result."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from accord.agents.handlers import StepInput
from accord.agents.state import CoordinatorLink, RunView
from accord.chain.results import find_result_async
from accord.chain.types import RunInfo
from accord.errors import ChainError
from accord.workflows.result_store import (
    HTTP_SCHEMES,
    BlobStore,
    ResultStore,
    ResultUnavailableError,
)

T = TypeVar("T")
#: Threads for store reads and writes (HTTP fetches may take up to FETCH_DEADLINE_S each):
#: their own pool, so slow stores never take the threads the rest of the host needs.
STORE_THREADS = 8
RETRY_FIRST_S = 5.0
RETRY_MAX_S = 300.0


class InputLoader:
    """Step inputs and results of the runs a host serves, loaded once."""

    def __init__(self, link: CoordinatorLink, store: BlobStore) -> None:
        self.link = link
        self.store = store
        self._inputs: dict[int, asyncio.Future[bytes]] = {}
        self._deps: dict[tuple[int, int], asyncio.Future[dict[str, bytes]]] = {}
        self._pool = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="accord-store")
        self._failed: dict[tuple[int, Any], tuple[int, float]] = {}  # -> (failures, retry at)

    async def prefetch(self, run: RunView, step: int) -> None:
        """Load the step's input and dependencies' results (before claiming it: a step whose
        inputs cannot be read is left alone, not claimed and left to lapse)."""
        await self._once(self._inputs, run.run_id, lambda: self._run_input(run))
        if run.definition.steps[step].deps:
            await self._once(self._deps, (run.run_id, step),
                             lambda: self._dep_results(run, step))

    async def step_input(self, run: RunView, step: int, role: str, attempt: int,
                         agent_id: int) -> StepInput:
        """The handler's input for ``step`` of ``run``, as ``agent_id`` (its ``role``)
        sees it on ``attempt``."""
        data = await self._once(self._inputs, run.run_id, lambda: self._run_input(run))
        deps: dict[str, bytes] = {}
        if run.definition.steps[step].deps:
            deps = await self._once(self._deps, (run.run_id, step),
                                    lambda: self._dep_results(run, step))
        return StepInput(run.run_id, step, run.name(step), role, data, dict(deps), attempt,
                         agent_id)

    def loaded(self, run: RunView, step: int) -> bool:
        """Whether the step's input and dependencies' results are loaded (prefetch done)."""
        wanted: list[asyncio.Future[Any] | None] = [self._inputs.get(run.run_id)]
        if run.definition.steps[step].deps:
            wanted.append(self._deps.get((run.run_id, step)))
        return all(f is not None and f.done() and not f.cancelled() and f.exception() is None
                   for f in wanted)

    def load_now(self, run: RunView, step: int) -> bool:
        """Load a step's inputs at once when that is only a local file read (a step with no
        dependencies, its run input in a local store): the scheduler then hands the step out
        in the same pass as its siblings, so their claims share one transaction. False when
        the inputs need the chain or the network (``prefetch`` does that)."""
        if self.loaded(run, step):
            return True
        if run.definition.steps[step].deps or not self._local(run.input_uri) \
                or run.run_id in self._inputs:
            return False
        try:
            data = self.store.get(run.input_uri, run.input_hash)
        except Exception:  # noqa: BLE001 (prefetch reports it, with its retry pause)
            return False
        done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        done.set_result(data)
        self._inputs[run.run_id] = done
        return True

    def _local(self, uri: str) -> bool:
        return isinstance(self.store, ResultStore) and not uri.startswith(HTTP_SCHEMES)

    async def result(self, uri: str, digest: bytes) -> bytes:
        """A submitted result, hash-checked (raises ResultIntegrityError / ResultNotFoundError)."""
        return await self._io(self.store.get, uri, digest)

    async def put(self, data: bytes) -> tuple[bytes, str]:
        """Store a result; returns (hash, URI)."""
        return await self._io(self.store.put, data)

    def close(self) -> None:
        """Stop the store threads (a fetch under way ends by its deadline)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _io(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``: on the store threads, except for a local store's calls, which are
        a file read or an atomic write (a thread hop would cost more than they do)."""
        if all(self._local(a) for a in args if isinstance(a, str)) and isinstance(
                self.store, ResultStore):
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def forget(self, run_id: int) -> None:
        """Drop what was loaded (or failed to load) for a run that ended."""
        self._inputs.pop(run_id, None)
        for key in [k for k in self._deps if k[0] == run_id]:
            self._deps.pop(key, None)
        for key in [k for k in self._failed
                    if k[1] == run_id or (isinstance(k[1], tuple) and k[1][0] == run_id)]:
            self._failed.pop(key, None)

    async def _once(self, cache: dict[Any, asyncio.Future[Any]], key: Any, load: Any) -> Any:
        """``load()`` once per key; concurrent callers share it. A failed load is tried again
        by a later caller, after a pause that doubles with each failure (5 s up to 5 min), so
        unreadable inputs (an unreachable or dripping server a run names) cannot keep the
        store threads busy."""
        found = cache.get(key)
        failures, until = self._failed.get((id(cache), key), (0, 0.0))
        if found is None and time.monotonic() < until:
            raise ResultUnavailableError(f"its last {failures} load(s) failed; trying again in "
                                         f"{until - time.monotonic():.0f} s")
        if found is None:
            found = asyncio.ensure_future(load())
            self.link.tasks.add(found)  # cancelled with the host's other tasks
            found.add_done_callback(self.link.tasks.discard)
            cache[key] = found
        try:
            value = await asyncio.shield(found)
        except Exception:
            if cache.get(key) is found:
                cache.pop(key, None)
                pause = min(RETRY_MAX_S, RETRY_FIRST_S * 2 ** failures)
                self._failed[(id(cache), key)] = (failures + 1, time.monotonic() + pause)
            raise
        self._failed.pop((id(cache), key), None)
        return value

    async def _run_input(self, run: RunView) -> bytes:
        return await self.result(run.input_uri, run.input_hash)

    async def _dep_results(self, run: RunView, step: int) -> dict[str, bytes]:
        deps: dict[str, bytes] = {}
        info = run.definition.steps[step]
        if not info.deps:
            return deps
        (runinfo,) = await self.link.view("runInfo", run.run_id)
        done_mask = RunInfo.from_abi(runinfo).doneMask
        for j in range(len(run.definition.steps)):
            if info.deps >> j & 1 and done_mask >> j & 1:
                if j not in run.results:
                    found = await find_result_async(self.link.chain, self.link.coordinator,
                                                    run.run_id, j)
                    if found is None:
                        raise ChainError(f"run {run.run_id} step {run.name(j)} is Done but has "
                                         "no result on chain")
                    run.results[j] = (found.resultHash, found.resultURI)
                h, uri = run.results[j]
                deps[run.name(j)] = await self.result(uri, h)
        return deps
