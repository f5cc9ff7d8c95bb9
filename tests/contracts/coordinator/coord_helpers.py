"""Helpers for the WorkflowCoordinator tests: constants, definition builders, and a World
that drives steps (imported by conftest.py and the test modules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode
from eth_utils import keccak

from accord.chain.types import RunState, StepSpec, StepState, ValidationTimeout, WorkflowDefinition, abi_type

EXEC = keccak(text="accord.role.executor")
VALIDATOR = keccak(text="accord.role.validator")
NO_STEP = 255
REWARD = 10**15

# Short names the tests use, from the one mirror (accord.chain.types).
(BLOCKED, READY, CLAIMED, SUBMITTED, BACKOFF, DONE, FAILED, SKIPPED, CANCELLED,
 DISPATCHED) = StepState
ON_TIMEOUT_RETRY, ON_TIMEOUT_ACCEPT, ON_TIMEOUT_FAIL = ValidationTimeout
R_NONE, R_RUNNING, R_PAUSED, R_COMPLETED, R_FAILED, R_CANCELLED = RunState

STEP_ABI = abi_type(StepSpec)
DEF_ABI = abi_type(WorkflowDefinition)


def spec(
    chain_id: int,
    *,
    role: bytes = EXEC,
    deps: int = 0,
    join: int = 0,
    lease: int = 100,
    attempts: int = 3,
    backoff: tuple[int, int, int] = (10, 2, 100),
    quorum: int = 0,
    reward: int = REWARD,
    comp: int = NO_STEP,
    decision: bool = False,
) -> tuple[Any, ...]:
    """One StepSpec tuple in ABI order."""
    return (role, deps, join, lease, attempts, backoff[0], backoff[1], backoff[2], quorum, reward,
            comp, decision, chain_id)


def mask(*steps: int) -> int:
    return sum(1 << s for s in steps)


def definition_id(defn: tuple[Any, ...]) -> bytes:
    return keccak(encode([DEF_ABI], [defn]))


@dataclass
class World:
    """Everything a coordinator test touches, plus helpers for common moves."""

    chain: Any
    coordinator: Any
    roles: Any
    identity: Any
    reputation: Any
    validation: Any
    admin: Any
    creator: Any
    operators: list[Any]
    agents: list[int]
    validators: list[Any]
    validator_agents: list[int]
    outsider: Any
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def chain_id(self) -> int:
        return int(self.chain.chain_id)

    def spec(self, **kw: Any) -> tuple[Any, ...]:
        return spec(self.chain_id, **kw)

    def define(self, steps: list[tuple[Any, ...]], *, validator_role: bytes = b"\x00" * 32,
               slash: int = 0, validation_seconds: int = 0, on_timeout: int = ON_TIMEOUT_RETRY) -> bytes:
        defn = (validator_role, slash, validation_seconds, on_timeout, steps)
        self.coordinator.registerDefinition(defn, sender=self.creator)
        return definition_id(defn)

    def start(self, def_id: bytes, value: int | None = None, sender: Any = None) -> int:
        if value is None:
            value = self.coordinator.definitionInfo(def_id)[3]
        tx = self.coordinator.startRun(def_id, b"\x11" * 32, "ipfs://input", value=value,
                                       sender=sender or self.creator)
        return int(tx.events.filter(self.coordinator.RunStarted)[0].runId)

    def run_of(self, steps: list[tuple[Any, ...]], **kw: Any) -> int:
        return self.start(self.define(steps, **kw))

    def claim(self, run: int, step: int, who: int = 0) -> Any:
        return self.coordinator.claim(run, step, self.agents[who], sender=self.operators[who])

    def submit(self, run: int, step: int, who: int = 0, branches: int = 0,
               result: bytes = b"\x22" * 32, uri: str = "ipfs://result") -> Any:
        return self.coordinator.submit(run, step, result, uri, branches,
                                       sender=self.operators[who])

    def respond(self, run: int, step: int, v: int, response: int) -> Any:
        return self.coordinator.respond(run, step, self.validator_agents[v], response,
                                        sender=self.validators[v])

    def finish(self, run: int, step: int, who: int = 0, branches: int = 0) -> Any:
        """Claim and submit a quorum-0 step (Done on submit)."""
        self.claim(run, step, who)
        return self.submit(run, step, who, branches)

    def state(self, run: int, step: int) -> int:
        return int(self.coordinator.stepState(run, step))

    def now(self) -> int:
        return int(self.chain.blocks.head.timestamp)

    def warp_to(self, timestamp: int) -> None:
        """Mine a block at `timestamp` (views now see it; the next tx is at or after it)."""
        self.chain.mine(1, timestamp=timestamp)

    def balance(self) -> int:
        return int(self.chain.provider.get_balance(self.coordinator.address))

    def assert_invariant(self) -> None:
        c = self.coordinator
        assert self.balance() == c.totalOwed() + c.totalEscrowed()
