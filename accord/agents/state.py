"""What the agent host knows and shares between its parts: the agents it serves, the
definitions and runs it has seen, and one link to the coordinator (calls, transactions,
tasks, counters) that scheduling, execution, judging and liveness all talk through."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from accord.agents.handlers import Handler, ValidatorHandler
from accord.chain.rpc import Abi, AsyncChain
from accord.settings import role_id

log = logging.getLogger("accord.agents")

# Reverts that only mean "someone else got there first": never an error.
RACE_ERRORS = frozenset({
    "CoordinatorStepNotReady", "CoordinatorStepNotSubmitted", "CoordinatorAlreadyVoted",
    "CoordinatorRunNotRunning", "CoordinatorStepNotClaimed", "CoordinatorNotLeaseHolder",
})
# What to tell the operator when its bond cannot back a claim or a vote.
BOND_HINTS = {
    "AgentRolesInsufficientFreeBond": "its free bond (active minus what open claims and votes "
                                      "lock) is below the workflow's stake: bond more, or wait "
                                      "for its open steps and votes to settle",
    "AgentRolesNotEligible": "it is not eligible for the role (bond below the minimum, no "
                             "recent heartbeat, or the key is not its owner/operator)",
    "CoordinatorRecordBlocked": "the reputation registry refused its record because it made "
                                "the coordinator its operator: revoke that approval, then "
                                "publish its outcomes again (publishOutcomes)",
}

# Gas limits (generous: an unused limit costs nothing; submit/respond may propagate to every
# dependent of a 64-step definition and write reputation).
GAS = {"claim": 400_000, "submit": 1_500_000, "respond": 1_500_000, "respondSigned": 1_500_000,
       "heartbeatLease": 120_000, "expireLease": 600_000, "heartbeat": 120_000,
       "releaseVoteStake": 200_000}
# A signed vote that does not decide costs ~86k (checks, record, stake lock): a batch gets
# GAS["respondSigned"] plus this much per vote.
GAS_PER_SIGNED_VOTE = 150_000


@dataclass
class Agent:
    """One agent: identity, operator key, a handler per role name, an optional validator."""

    name: str
    operator: LocalAccount
    agent_id: int
    handlers: dict[str, Handler] = field(default_factory=dict)
    validator: ValidatorHandler | None = None
    validator_role: str | None = None  # default: the coordinator's global validator role
    max_concurrent: int = 8  # steps held at once (handlers run concurrently, in threads)
    batch: int = 8  # claims (and submits) per transaction; 1: no multicall
    timeout_s: float | None = None  # default: the lease cap (LEASE_CAP_FACTOR x lease)
    # runtime state
    active: int = 0  # steps handed to it and not released yet
    held: int = 0  # steps whose claim locks its stake (claimed, submit not mined yet)
    bond_cap: int | None = None  # steps its free bond was found to back (reset by liveness)
    failed: set[tuple[int, int]] = field(default_factory=set)
    stats: Counter[str] = field(default_factory=Counter)

    def role_ids(self) -> dict[bytes, str]:
        return {role_id(name): name for name in self.handlers}

    def room(self) -> int:
        """How many more steps it may take now."""
        cap = self.max_concurrent if self.bond_cap is None else min(self.max_concurrent,
                                                                     self.bond_cap)
        return cap - self.active

    def hold_only_what_it_holds(self) -> bool:
        """Cap the steps it takes at those it holds (its bond backs no more until the next
        liveness round re-checks); False if it was capped there already."""
        if self.bond_cap == self.held:
            return False
        self.bond_cap = self.held
        return True


@dataclass
class StepInfo:
    role: bytes
    deps: int
    lease: int
    quorum: int
    decision: bool
    dependents: int = 0
    remote: bool = False  # runs on another chain: never claimed here


@dataclass
class DefinitionView:
    id: bytes
    steps: list[StepInfo]
    names: list[str]
    validator_role: bytes
    compensation_mask: int


@dataclass
class RunView:
    run_id: int
    definition: DefinitionView
    input_hash: bytes
    input_uri: str
    ended: bool = False
    results: dict[int, tuple[bytes, str]] = field(default_factory=dict)
    names: list[str] | None = None  # a remote step's run: its home step's name (workflows.origin)

    def name(self, step: int) -> str:
        return self.names[step] if self.names is not None else self.definition.names[step]


@dataclass
class CoordinatorLink:
    """One chain session with the coordinator, shared by every part of a host: views,
    transactions from an agent's operator, background tasks, and the host's counters."""

    chain: AsyncChain
    coordinator: str
    abi: Abi = field(default_factory=lambda: Abi("WorkflowCoordinator"))
    stats: Counter[str] = field(default_factory=Counter)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def view(self, fn: str, *args: Any) -> tuple[Any, ...]:
        """A coordinator view, decoded."""
        return self.abi.decode(fn, await self.chain.call(self.coordinator,
                                                         self.abi.encode(fn, *args)))

    async def view_struct(self, fn: str, *args: Any) -> dict[str, Any]:
        """A coordinator view returning one struct, decoded by field name."""
        return self.abi.decode_struct(fn, await self.chain.call(self.coordinator,
                                                                self.abi.encode(fn, *args)))

    async def transact(self, agent: Agent, fn: str, *args: Any, precheck: bool = False,
                       gas: int | None = None) -> dict[str, Any]:
        """``fn(*args)`` on the coordinator from the agent's operator, with ``gas`` (default
        ``GAS[fn]``)."""
        return await self.chain.transact(agent.operator, self.coordinator,
                                         self.abi.encode(fn, *args), gas=gas or GAS[fn],
                                         precheck=precheck)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` as a task the host cancels when it stops."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def count(self, agent: Agent, what: str) -> None:
        """One more ``what`` for the agent and for the host."""
        agent.stats[what] += 1
        self.stats[what] += 1


SpawnFn = Callable[[Coroutine[Any, Any, Any]], None]
