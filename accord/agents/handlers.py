"""What a handler sees and returns.

An executor handler is a plain callable ``(StepInput) -> bytes`` (or ``StepOutput`` for a
decision step, or an ``async def`` returning either). A validator handler is
``(ValidationInput) -> Verdict | bool | int`` (an int is a 0..100 score; >= 50 approves).
Handlers are named in configuration as import paths ``module:function``.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
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


def load_handler(path: str) -> Callable[..., Any]:
    """Import ``module:function`` (dots after the colon walk attributes)."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"handler '{path}' must be an import path 'module:function'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import handler module '{module_name}' ({exc}); check the "
                          "path and PYTHONPATH") from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"module '{module_name}' has no '{attr}' (handler '{path}')")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ConfigError(f"handler '{path}' is not callable")
    return obj  # type: ignore[no-any-return]
