"""The contracts' enums and structs, mirrored in Python once.

Every enum a deployable exposes is an ``IntEnum`` (members UPPER_CASE, ``.label`` the Solidity
spelling for display); every struct Python reads, and every view that returns several values,
is a ``NamedTuple`` whose fields carry the Solidity names, in the Solidity order, annotated
with their ABI types (``Uint64`` is an ``int`` that is a ``uint64`` on chain). Build one from
what web3.py or ape returns with ``from_abi``; ``abi_type`` gives the tuple type for
``eth_abi.encode``. ``tests/static/test_contract_types.py`` checks all of it against the
compiled ABIs and the interface sources, so a drift fails there and not in a relayer.
"""

from __future__ import annotations

import enum
import functools
import typing
from collections.abc import Sequence
from typing import Annotated, Any, NamedTuple, TypeVar

# ---------------------------------------------------------------- ABI scalar types
Uint8 = Annotated[int, "uint8"]
Uint32 = Annotated[int, "uint32"]
Uint64 = Annotated[int, "uint64"]
Uint96 = Annotated[int, "uint96"]
Uint128 = Annotated[int, "uint128"]
Uint256 = Annotated[int, "uint256"]
Bytes32 = Annotated[bytes, "bytes32"]
Address = Annotated[str, "address"]
String = Annotated[str, "string"]
Bool = Annotated[bool, "bool"]


# ---------------------------------------------------------------- enums
class SolidityEnum(enum.IntEnum):
    """An enum of a contract: the value is the uint8 on chain, ``label`` the Solidity name."""

    @property
    def label(self) -> str:
        """The member as Solidity spells it (``DISPATCHED`` -> ``"Dispatched"``)."""
        return "".join(part.capitalize() for part in self.name.split("_"))

    @classmethod
    def from_label(cls, label: str) -> typing.Self:
        """The member Solidity calls ``label``; ValueError names the known ones."""
        for member in cls:
            if member.label == label:
                return member
        raise ValueError(f"{cls.__name__} has no member '{label}'; known: "
                         f"{', '.join(m.label for m in cls)}")

    @classmethod
    def labels(cls) -> tuple[str, ...]:
        """Every member's Solidity name, in value order."""
        return tuple(m.label for m in cls)


class RunState(SolidityEnum):
    """``IWorkflowCoordinatorTypes.RunState``: lifecycle of a run."""

    NONE = 0
    RUNNING = 1
    PAUSED = 2
    COMPLETED = 3
    FAILED = 4
    CANCELLED = 5

    @property
    def active(self) -> bool:
        """Running or Paused: the run may still change."""
        return self in (RunState.RUNNING, RunState.PAUSED)


class StepState(SolidityEnum):
    """``IWorkflowCoordinatorTypes.StepState``: effective (derived) state of a step."""

    BLOCKED = 0
    READY = 1
    CLAIMED = 2
    SUBMITTED = 3
    BACKOFF = 4
    DONE = 5
    FAILED = 6
    SKIPPED = 7
    CANCELLED = 8
    DISPATCHED = 9


class ValidationTimeout(SolidityEnum):
    """``IWorkflowCoordinatorTypes.ValidationTimeout``: what an undecided Submitted attempt
    becomes at its validation deadline."""

    RETRY = 0
    ACCEPT = 1
    FAIL = 2


class RequestState(SolidityEnum):
    """``IRemoteStepRouter.RequestState``: where a received remote request stands."""

    NONE = 0
    UNFUNDED = 1
    OPEN = 2
    REPORTED = 3


class MessageStatus(SolidityEnum):
    """``IAccordGateway.MessageStatus``: a message's fate on its destination gateway."""

    UNKNOWN = 0
    DELIVERED = 1
    FAILED = 2
    EXPIRED = 3
    CANCELLED = 4


# ---------------------------------------------------------------- decoding
T = TypeVar("T", bound=tuple[Any, ...])


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The field annotations of a mirror, resolved once per class (hot in the agents)."""
    return typing.get_type_hints(cls, include_extras=True)


def _convert(hint: Any, value: Any) -> Any:
    if typing.get_origin(hint) is Annotated:
        base = typing.get_args(hint)[0]
        if base is bytes:
            return bytes(value)
        return base(value)
    if isinstance(hint, type) and issubclass(hint, enum.IntEnum):
        return hint(int(value))
    if typing.get_origin(hint) is tuple:  # tuple[Struct, ...]: an array of structs
        item = typing.get_args(hint)[0]
        return tuple(item.from_abi(v) for v in value)
    if isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "from_abi"):
        return hint.from_abi(value)
    raise TypeError(f"no ABI conversion for {hint!r}")


def _from_abi(cls: type[T], value: Any) -> T:
    """``cls`` from a decoded ABI tuple: a tuple or list (web3.py), an ape struct (indexable),
    or a mapping by field name."""
    hints = _hints(cls)
    fields: tuple[str, ...] = cls._fields  # type: ignore[attr-defined]
    if isinstance(value, dict):
        raw: Sequence[Any] = [value[f] for f in fields]
    else:
        if len(value) != len(fields):
            raise ValueError(f"{cls.__name__} has {len(fields)} fields, got {len(value)} values")
        raw = [value[i] for i in range(len(fields))]
    return cls(*(_convert(hints[f], v) for f, v in zip(fields, raw, strict=True)))


def abi_type_of(hint: Any) -> str:
    """The ABI type string of one field annotation."""
    if typing.get_origin(hint) is Annotated:
        return str(typing.get_args(hint)[1])
    if isinstance(hint, type) and issubclass(hint, enum.IntEnum):
        return "uint8"
    if typing.get_origin(hint) is tuple:
        return abi_type(typing.get_args(hint)[0]) + "[]"
    if isinstance(hint, type) and issubclass(hint, tuple):
        return abi_type(hint)
    raise TypeError(f"no ABI type for {hint!r}")


def abi_type(cls: type) -> str:
    """The ABI tuple type of a struct mirror, e.g. ``"(bytes32,uint64,...)"``."""
    hints = _hints(cls)
    return "(" + ",".join(abi_type_of(hints[f]) for f in cls._fields) + ")"  # type: ignore[attr-defined]


# ---------------------------------------------------------------- coordinator structs
class StepSpec(NamedTuple):
    """``IWorkflowCoordinatorTypes.StepSpec``: one step of a workflow definition."""

    role: Bytes32
    deps: Uint64
    join: Uint8
    leaseSeconds: Uint32
    maxAttempts: Uint8
    backoffInitial: Uint32
    backoffMultiplier: Uint8
    backoffCap: Uint32
    quorum: Uint8
    reward: Uint96
    compensation: Uint8
    decision: Bool
    chainId: Uint64

    @classmethod
    def from_abi(cls, value: Any) -> StepSpec:
        return _from_abi(cls, value)


class WorkflowDefinition(NamedTuple):
    """``IWorkflowCoordinatorTypes.WorkflowDefinition``; its id is keccak256 of its ABI
    encoding (``abi_type(WorkflowDefinition)``)."""

    validatorRole: Bytes32
    slashAmount: Uint128
    validationSeconds: Uint32
    onValidationTimeout: ValidationTimeout
    steps: tuple[StepSpec, ...]

    @classmethod
    def from_abi(cls, value: Any) -> WorkflowDefinition:
        return _from_abi(cls, value)


class RunInfo(NamedTuple):
    """``IWorkflowCoordinatorTypes.RunInfo``: stored facts of a run (``runInfo``)."""

    definitionId: Bytes32
    creator: Address
    state: RunState
    escrow: Uint256
    doneMask: Uint64
    skippedMask: Uint64
    compensationPending: Uint64
    compensationOpen: Uint64

    @classmethod
    def from_abi(cls, value: Any) -> RunInfo:
        return _from_abi(cls, value)


# ---------------------------------------------------------------- coordinator views
class Lease(NamedTuple):
    """``IWorkflowCoordinator.lease(runId, step)``: the last lease of a step and its current
    attempt. While Submitted ``leaseEnd`` is the validation deadline; while Dispatched, the
    remote deadline."""

    agentId: Uint256
    operator: Address
    leaseEnd: Uint64
    attempt: Uint8

    @classmethod
    def from_abi(cls, value: Any) -> Lease:
        return _from_abi(cls, value)


class DefinitionInfo(NamedTuple):
    """``IWorkflowCoordinator.definitionInfo(definitionId)``: header of a definition."""

    stepCount: Uint8
    compensationMask: Uint64
    sinkMask: Uint64
    totalReward: Uint256
    validatorRole: Bytes32
    slashAmount: Uint256

    @classmethod
    def from_abi(cls, value: Any) -> DefinitionInfo:
        return _from_abi(cls, value)


class Registries(NamedTuple):
    """``IWorkflowCoordinator.registries()``: what the coordinator is wired to."""

    identityRegistry: Address
    agentRoles: Address
    reputationRegistry: Address
    validationRegistry: Address
    validatorRole: Bytes32

    @classmethod
    def from_abi(cls, value: Any) -> Registries:
        return _from_abi(cls, value)


class Tallies(NamedTuple):
    """``IWorkflowCoordinator.tallies(runId, step)``: votes on the current attempt."""

    approvals: Uint8
    rejections: Uint8

    @classmethod
    def from_abi(cls, value: Any) -> Tallies:
        return _from_abi(cls, value)


class StepResult(NamedTuple):
    """A step's current result, as its StepSubmitted (or RemoteResultReceived) event gave it
    (``accord.chain.results``; the coordinator keeps only a commitment to it)."""

    resultHash: Bytes32
    resultURI: String

    @classmethod
    def from_abi(cls, value: Any) -> StepResult:
        return _from_abi(cls, value)


# ---------------------------------------------------------------- router
class Task(NamedTuple):
    """``IRemoteStepRouter.Task``: what the home chain asks the remote chain to run."""

    homeChainId: Uint256
    homeCoordinator: Address
    runId: Uint256
    step: Uint8
    attempt: Uint8
    role: Bytes32
    quorum: Uint8
    leaseSeconds: Uint32
    maxAttempts: Uint8
    reward: Uint96
    deadline: Uint64
    inputHash: Bytes32
    inputURI: String
    creator: Address

    @classmethod
    def from_abi(cls, value: Any) -> Task:
        return _from_abi(cls, value)


class Result(NamedTuple):
    """``IRemoteStepRouter.Result``: what the remote chain reports back for one attempt."""

    runId: Uint256
    step: Uint8
    attempt: Uint8
    resultHash: Bytes32
    resultURI: String
    success: Bool

    @classmethod
    def from_abi(cls, value: Any) -> Result:
        return _from_abi(cls, value)


class Request(NamedTuple):
    """``IRemoteStepRouter.Request``: a received task and the local run executing it
    (``request(requestId)``)."""

    state: RequestState
    step: Uint8
    attempt: Uint8
    deadline: Uint64
    reward: Uint96
    homeChainId: Uint256
    homeRunId: Uint256
    remoteRunId: Uint256
    definitionId: Bytes32
    inputHash: Bytes32
    inputURI: String
    creator: Address

    @classmethod
    def from_abi(cls, value: Any) -> Request:
        return _from_abi(cls, value)


# ---------------------------------------------------------------- gateway
class MessageStatusInfo(NamedTuple):
    """``IAccordGateway.messageStatus(originChainId, originGateway, nonce, id)``."""

    status: MessageStatus
    reasonHash: Bytes32
    attempts: Uint32

    @classmethod
    def from_abi(cls, value: Any) -> MessageStatusInfo:
        return _from_abi(cls, value)


class OriginConfig(NamedTuple):
    """``IAccordGateway.OriginConfig``: an origin chain's set code, threshold and size."""

    setCode: Address
    threshold: Uint8
    size: Uint8

    @classmethod
    def from_abi(cls, value: Any) -> OriginConfig:
        return _from_abi(cls, value)


class GasOracle(NamedTuple):
    """``IAccordGasPaymaster.GasOracle``: one destination's price list on a gas paymaster
    (``tokenExchangeRate`` scaled by 1e10; 0 means no oracle)."""

    tokenExchangeRate: Uint128
    gasPrice: Uint64
    gasOverhead: Uint32

    @classmethod
    def from_abi(cls, value: Any) -> GasOracle:
        return _from_abi(cls, value)


# ---------------------------------------------------------------- agent roles
class Bond(NamedTuple):
    """``IAgentRoles.bondOf(agentId, role)``: active bond, unbonding amount, maturity."""

    active: Uint256
    unbonding: Uint256
    unbondReadyAt: Uint64

    @classmethod
    def from_abi(cls, value: Any) -> Bond:
        return _from_abi(cls, value)


# ---------------------------------------------------------------- registry (for the ABI test)
#: Each enum and the Solidity enum it mirrors (``internalType`` without ``enum ``).
ENUMS: dict[type[SolidityEnum], str] = {
    RunState: "IWorkflowCoordinatorTypes.RunState",
    StepState: "IWorkflowCoordinatorTypes.StepState",
    ValidationTimeout: "IWorkflowCoordinatorTypes.ValidationTimeout",
    RequestState: "IRemoteStepRouter.RequestState",
    MessageStatus: "IAccordGateway.MessageStatus",
}

#: Each struct mirror and the Solidity struct (``internalType`` without ``struct ``).
STRUCTS: dict[type, str] = {
    StepSpec: "IWorkflowCoordinatorTypes.StepSpec",
    WorkflowDefinition: "IWorkflowCoordinatorTypes.WorkflowDefinition",
    RunInfo: "IWorkflowCoordinatorTypes.RunInfo",
    Task: "IRemoteStepRouter.Task",
    Result: "IRemoteStepRouter.Result",
    Request: "IRemoteStepRouter.Request",
    OriginConfig: "IAccordGateway.OriginConfig",
    GasOracle: "IAccordGasPaymaster.GasOracle",
}

#: Each multi-value view mirror and the (contract, function) whose outputs it names.
VIEWS: dict[type, tuple[str, str]] = {
    Lease: ("WorkflowCoordinator", "lease"),
    DefinitionInfo: ("WorkflowCoordinator", "definitionInfo"),
    Registries: ("WorkflowCoordinator", "registries"),
    Tallies: ("WorkflowCoordinator", "tallies"),
    MessageStatusInfo: ("AccordGateway", "messageStatus"),
    Bond: ("AgentRoles", "bondOf"),
}

__all__ = [
    "ENUMS", "STRUCTS", "VIEWS",
    "Address", "Bool", "Bytes32", "String", "Uint8", "Uint32", "Uint64", "Uint96", "Uint128",
    "Uint256",
    "SolidityEnum", "RunState", "StepState", "ValidationTimeout", "RequestState",
    "MessageStatus",
    "StepSpec", "WorkflowDefinition", "RunInfo", "Lease", "DefinitionInfo", "Registries", "Tallies",
    "StepResult", "Task", "Result", "Request", "MessageStatusInfo", "OriginConfig", "GasOracle",
    "Bond",
    "abi_type", "abi_type_of",
]
