"""What a handler sees and returns.

An executor handler is a plain callable ``(StepInput) -> bytes`` (or ``StepOutput`` for a
decision step, or an ``async def`` returning either). A validator handler is
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

from accord.errors import ConfigError

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
