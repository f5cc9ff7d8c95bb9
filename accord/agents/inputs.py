"""One loader of step inputs, shared by the executor and the judges of a host.

A step's input is the run's input plus the results of its done dependencies, each fetched
from the result store and checked against the hash the chain holds. Both are fixed once the
step is ready, so they are loaded once per step and run: every judge of a submitted step (and
its executor before them) reads the same bytes, and judges that start together wait on one
load instead of each re-reading ``runInfo`` and every dependency's result."""

from __future__ import annotations

import asyncio
from typing import Any

from accord.agents.handlers import StepInput
from accord.agents.state import CoordinatorLink, RunView
from accord.chain.types import RunInfo
from accord.workflows.result_store import BlobStore


class InputLoader:
    """Step inputs and results of the runs a host serves, loaded once."""

    def __init__(self, link: CoordinatorLink, store: BlobStore) -> None:
        self.link = link
        self.store = store
        self._inputs: dict[int, asyncio.Future[bytes]] = {}
        self._deps: dict[tuple[int, int], asyncio.Future[dict[str, bytes]]] = {}

    async def step_input(self, run: RunView, step: int, role: str, attempt: int,
                         agent_id: int) -> StepInput:
        """The handler's input for ``step`` of ``run``, as ``agent_id`` (its ``role``)
        sees it on ``attempt``."""
        data = await self._once(self._inputs, run.run_id, lambda: self._run_input(run))
        deps = await self._once(self._deps, (run.run_id, step),
                                lambda: self._dep_results(run, step))
        return StepInput(run.run_id, step, run.name(step), role, data, dict(deps), attempt,
                         agent_id)

    async def result(self, uri: str, digest: bytes) -> bytes:
        """A submitted result, hash-checked (raises ResultIntegrityError / ResultNotFoundError)."""
        return await asyncio.to_thread(self.store.get, uri, digest)

    def forget(self, run_id: int) -> None:
        """Drop what was loaded for a run that ended."""
        self._inputs.pop(run_id, None)
        for key in [k for k in self._deps if k[0] == run_id]:
            self._deps.pop(key, None)

    async def _once(self, cache: dict[Any, asyncio.Future[Any]], key: Any, load: Any) -> Any:
        """``load()`` once per key; concurrent callers share it; a failed load is retried by
        the next caller (the store or the node may answer then)."""
        found = cache.get(key)
        if found is None:
            found = asyncio.ensure_future(load())
            self.link.tasks.add(found)  # cancelled with the host's other tasks
            found.add_done_callback(self.link.tasks.discard)
            cache[key] = found
        try:
            return await asyncio.shield(found)
        except Exception:
            if cache.get(key) is found:
                cache.pop(key, None)
            raise

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
                    h, uri = await self.link.view("result", run.run_id, j)
                    run.results[j] = (bytes(h), uri)
                h, uri = run.results[j]
                deps[run.name(j)] = await self.result(uri, h)
        return deps
