"""What a handler sees and returns.

An executor handler is a plain callable ``(StepInput) -> bytes`` (or ``StepOutput`` for a
decision step, or an ``async def`` returning either). A decision step's handler must return
``StepOutput(data, branches=("name", ...))`` selecting at least one of the step's direct
dependents; the runtime refuses to submit anything else (:func:`branch_mask`), because the
coordinator skips every dependent the result does not select. A validator handler is
``(ValidationInput) -> Verdict | bool | int`` (an int is a 0..100 score; >= 50 approves).
Handlers are named in configuration as import paths ``module:function``, imported as
``python -m`` would from the current directory (then the agents file's directory), so a
project's ``mypkg/handlers.py`` needs no ``PYTHONPATH``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from accord.errors import AccordError, ConfigError

APPROVAL_THRESHOLD = 50  # WorkflowCoordinator.APPROVAL_THRESHOLD


@dataclass(frozen=True)
class StepInput:
    """Everything a step's handler needs; dependency results are already hash-checked."""

    run_id: int
    step: int
    name: str
    role: str
    input: bytes
    deps: Mapping[str, bytes] = field(default_factory=dict)
    attempt: int = 0
    agent_id: int = 0


@dataclass(frozen=True)
class StepOutput:
    """A result plus, for a decision step, the names (or indexes) of the dependents to run."""

    data: bytes
    branches: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class ValidationInput:
    """A submitted result to check, with the inputs its executor saw."""

    step_input: StepInput
    result: bytes
    executor_agent_id: int


@dataclass(frozen=True)
class Verdict:
    approve: bool
    score: int | None = None  # 0..100; default 100 when approving, 0 when rejecting

    def response(self) -> int:
        if self.score is None:
            return 100 if self.approve else 0
        score = max(0, min(100, int(self.score)))
        if self.approve != (score >= APPROVAL_THRESHOLD):
            score = 100 if self.approve else 0
        return score


HandlerResult: TypeAlias = bytes | StepOutput
Handler: TypeAlias = Callable[[StepInput], HandlerResult | Awaitable[HandlerResult]]
ValidatorHandler = Callable[[ValidationInput], Any]


def to_response(value: Any) -> int:
    """Normalise what a validator handler returned into a 0..100 response."""
    if isinstance(value, Verdict):
        return value.response()
    if isinstance(value, bool):
        return 100 if value else 0
    if isinstance(value, int):
        return max(0, min(100, value))
    raise TypeError(f"a validator handler must return Verdict, bool or int, not "
                    f"{type(value).__name__}")


def to_output(value: Any) -> StepOutput:
    if isinstance(value, StepOutput):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return StepOutput(bytes(value))
    if isinstance(value, str):
        return StepOutput(value.encode())
    raise TypeError(f"a step handler must return bytes or StepOutput, not {type(value).__name__}")


class DecisionResultError(AccordError, ValueError):
    """A step handler's result does not fit its step: a decision that selects no dependent
    (or one that is not its dependent), or branches from a step that is not a decision."""


def branch_mask(step: str, decision: bool, branches: Sequence[str | int],
                names: Sequence[str], dependents: int) -> int:
    """The ``branches`` bit mask ``submit`` takes for a handler's result, checked first.

    ``names``: the workflow's step names by index; ``dependents``: the mask of ``step``'s direct
    dependents. A decision with dependents must select at least one of them: the coordinator
    skips every dependent not selected (and whatever then cannot run), so an empty selection
    would quietly end that part of the run.
    """
    allowed = [names[i] for i in range(len(names)) if dependents >> i & 1]
    listed = ", ".join(f"'{n}'" for n in allowed)
    if not decision:
        if branches:
            raise DecisionResultError(
                f"step '{step}' is not a decision (no 'decision: true' in the workflow) but its "
                f"handler returned branches {list(branches)}; return bytes, or make the step a "
                "decision")
        return 0
    if not branches and dependents:
        raise DecisionResultError(
            f"step '{step}' is a decision and its handler's result selects no branch, which "
            f"would skip all its dependents ({listed}); a decision handler returns "
            f"StepOutput(data, branches=(...)) naming one or more of {listed}")
    mask = 0
    for b in branches:
        if isinstance(b, str):
            idx = names.index(b) if b in names else -1
        elif isinstance(b, int) and not isinstance(b, bool):
            idx = b
        else:
            idx = -1
        if not (0 <= idx < len(names) and dependents >> idx & 1):
            raise DecisionResultError(
                f"decision step '{step}' selected {b!r}, which is not one of its dependents; "
                f"branches name (or index) one or more of {listed or 'none'}")
        mask |= 1 << idx
    return mask


def handler_search_path(config_path: str | Path | None = None) -> list[Path]:
    """Where handler modules are looked for before ``sys.path``: the current directory (as
    ``python -m`` does), then the directory of the agents file (so a file run from elsewhere
    still finds the modules next to it)."""
    dirs = [Path.cwd()]
    if config_path is not None:
        folder = Path(config_path).resolve().parent
        if folder != dirs[0]:
            dirs.append(folder)
    return dirs


def _on_sys_path(dirs: Sequence[Path]) -> None:
    """Put ``dirs`` first on sys.path, in order (each once). They stay there: a handler may
    import more of its package while it runs."""
    present = {Path(p or ".").resolve() for p in sys.path}
    for folder in reversed(dirs):
        if folder.resolve() not in present:
            sys.path.insert(0, str(folder))
    importlib.invalidate_caches()


def load_handler(path: str, *, search: Sequence[Path] = ()) -> Callable[..., Any]:
    """Import ``module:function`` (dots after the colon walk attributes), looking in
    ``search`` (see :func:`handler_search_path`) before the rest of sys.path."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"handler '{path}' must be an import path 'module:function'")
    _on_sys_path(search)
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        where = ", ".join(str(d) for d in search) or "sys.path"
        raise ConfigError(f"cannot import handler module '{module_name}' ({exc}); looked in "
                          f"{where} and sys.path: check the module path (run from your "
                          "project's directory or set PYTHONPATH)") from None
    except Exception as exc:  # the module's own code failed while importing
        raise ConfigError(f"importing handler module '{module_name}' failed: "
                          f"{type(exc).__name__}: {exc}") from None
    walked = module_name
    for part in attr.split("."):
        if not hasattr(obj, part):
            owner = f"module '{walked}'" if walked == module_name else f"'{walked}'"
            raise ConfigError(f"{owner} has no '{part}' (handler '{path}')")
        obj = getattr(obj, part)
        walked += ("." if walked != module_name else ":") + part
    if not callable(obj):
        raise ConfigError(f"handler '{path}' is not callable")
    return obj  # type: ignore[no-any-return]
