"""WorkflowCoordinator gas: definitions, a run start, and one step's life with a validation
quorum of two. Most keys use the test mocks of the ERC-8004 registries and AgentRoles
(contracts/mocks/Mock*), which isolates the coordinator's own cost; the `*_real` keys are the
same step life against the real IdentityRegistry, ReputationRegistry, ValidationRegistry and
AgentRoles (bonded, live agents, a stake locked per claim and per vote), which adds the
registries' storage and AgentRoles' eligibility checks and locks.

A step's life is everything the step costs until nothing of it is left open: claim, submit,
two votes and what completion costs. With the real registries it is measured twice, with the
same agents on two runs:

- `step_life_q2_real_onchain` (the agents' first run): each judge sends its own `respond`;
  the first vote locks its judge's stake until the verdict is final, so the life includes the
  `releaseVoteStake` that frees it (the deciding vote's stake is only checked). Its claim,
  `claim_real_first`, is the executor's first claim ever: it creates the executor's lock
  record in AgentRoles (a new slot; the record stays live afterwards).
- `step_life_q2_real` (the next run): both judges' votes travel signed (EIP-712) in one
  `respondSigned` transaction, `votes_signed_q2_real`, which the agent runtime sends when one
  host runs both judges; a verdict reached in one transaction locks no vote stake. Its
  `claim_real` and `submit_real` are an agent's steady state.

The executor's agent is operated by its owner, as in the demo (a delegated operator adds one
storage slot to the claim, for the owner the votes' independence is checked against). The
ERC-8004 records (`publish_outcomes`, `publish_validation`) are off the hot path and measured
on their own.

Storage a step's life writes fresh (20,000 gas each): one word at the first claim (lease
holder, agent, lease end, state), one at the submit (the result's commitment; hash and URI
are in the StepSubmitted event), none at the verdict (the run's done mask shares the word
startRun wrote). A heartbeat or a recorded (non-deciding) vote writes the step's second word,
so `lease_heartbeat` and `vote_real` pay for it.

Also the runtime size of every deployable (`bytecode_size`): each must stay <= 20,480 bytes."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak
from web3.logs import DISCARD

from accord.agents.ballots import Vote, sign_vote
from accord.chain.types import DefinitionInfo, ValidationTimeout, WorkflowDefinition, abi_type
from bench.common import BenchContext, gas

EXEC = keccak(text="accord.role.executor")
VALIDATOR = keccak(text="accord.role.validator")
REWARD = 10**15
STAKE = 10**15  # the YAML default stake
DEPLOYABLES = ("WorkflowCoordinator", "WorkflowCoordinatorExtension",
               "WorkflowCoordinatorRecords", "AgentRoles",
               "RemoteStepRouter", "AccordGateway", "IdentityRegistry", "ReputationRegistry",
               "ValidationRegistry", "AttesterAnnounce", "AccordGasPaymaster")


def _step(chain_id: int, deps: int = 0, quorum: int = 0) -> tuple[Any, ...]:
    return (EXEC, deps, 0, 600, 3, 10, 2, 100, quorum, REWARD, 255, False, chain_id)


def _chain_def(chain_id: int, n: int, quorum0: int = 0, stake: int = 0) -> tuple[Any, ...]:
    steps = [_step(chain_id, quorum=quorum0)] + [_step(chain_id, deps=1 << (i - 1))
                                                 for i in range(1, n)]
    return (b"\x00" * 32, stake, 0, ValidationTimeout.RETRY, steps)


def run(ctx: BenchContext) -> dict[str, dict[str, int]]:
    c = ctx.client
    admin, creator, op = ctx.account(0), ctx.account(1), ctx.account(2)
    v1, v2 = ctx.account(3), ctx.account(4)
    identity, _ = c.deploy("MockIdentityRegistry", sender=admin)
    roles, _ = c.deploy("MockAgentRoles", sender=admin)
    c.transact(roles.functions.setIdentity(identity.address), admin)
    reputation, _ = c.deploy("MockReputationRegistry", sender=admin)
    validation, _ = c.deploy("MockValidationRegistry", identity.address, sender=admin)
    coord, _ = c.deploy("WorkflowCoordinator", identity.address, roles.address,
                        reputation.address, validation.address, VALIDATOR, admin.address,
                        sender=admin)
    agents = {}
    for i, (acct, role) in enumerate(((op, EXEC), (v1, VALIDATOR), (v2, VALIDATOR)), start=1):
        c.transact(identity.functions.register(), acct)
        agents[acct.address] = i  # 0 is the coordinator's own identity
        c.transact(roles.functions.setEligible(i, acct.address, role, True), admin)

    chain_id = c.chain_id
    out: dict[str, int] = {}
    out["define_4"] = gas(c.transact(coord.functions.registerDefinition(
        _chain_def(chain_id, 4, quorum0=2)), creator))
    out["define_16"] = gas(c.transact(coord.functions.registerDefinition(
        _chain_def(chain_id, 16)), creator))
    def_id = keccak(_encode_def(_chain_def(chain_id, 4, quorum0=2)))
    total = DefinitionInfo.from_abi(coord.functions.definitionInfo(def_id).call()).totalReward
    receipt = c.transact(coord.functions.startRun(def_id, b"\x11" * 32, "ipfs://input"),
                         creator, value=total)
    out["start_run"] = gas(receipt)
    run_id = coord.events.RunStarted().process_receipt(receipt)[0]["args"]["runId"]

    claim = gas(c.transact(coord.functions.claim(run_id, 0, agents[op.address]), op))
    c.w3.provider.make_request("evm_increaseTime", [30])
    c.w3.provider.make_request("evm_mine", [])
    out["lease_heartbeat"] = gas(c.transact(coord.functions.heartbeatLease(run_id, 0), op))
    submit = gas(c.transact(coord.functions.submit(
        run_id, 0, b"\x22" * 32, "ipfs://bafy-result-0", 0), op))
    first = gas(c.transact(coord.functions.respond(run_id, 0, agents[v1.address], 90), v1))
    quorum = gas(c.transact(coord.functions.respond(run_id, 0, agents[v2.address], 100), v2))
    released = gas(c.transact(coord.functions.releaseVoteStake(run_id, 0, 0, v1.address), v1))
    out["claim"] = claim
    out["submit"] = submit
    out["validation_quorum"] = quorum
    out["withdraw"] = gas(c.transact(coord.functions.withdraw(), op))
    out["step_life_q2"] = claim + submit + first + quorum + released
    out["publish_validation"] = gas(c.transact(coord.functions.publishValidation(
        run_id, 0, b"\x22" * 32, "ipfs://bafy-result-0"), op))
    out.update(_step_life_real(ctx))
    for key, value in out.items():
        print(f"   {key:<22} {value:>10,}")
    sizes = {name: _runtime_size(name) for name in DEPLOYABLES}
    for name, size in sizes.items():
        print(f"   {name:<30} {size:>7,} bytes")
    return {"gas": out, "bytecode_size": sizes}


def _runtime_size(name: str) -> int:
    from accord.chain.artifacts import artifact

    code = artifact(name).runtime_bytecode.removeprefix("0x")
    return len(code) // 2


def _step_life_real(ctx: BenchContext) -> dict[str, int]:
    """A step's life (see the module docs) with the real registries and AgentRoles, then the
    ERC-8004 records of its run published by anyone."""
    c = ctx.client
    admin, creator, op = ctx.account(0), ctx.account(1), ctx.account(2)
    v1, v2 = ctx.account(3), ctx.account(4)
    bond = 10**16
    identity, _ = c.deploy("IdentityRegistry", sender=admin)
    reputation, _ = c.deploy("ReputationRegistry", identity.address, sender=admin)
    validation, _ = c.deploy("ValidationRegistry", identity.address, sender=admin)
    roles, _ = c.deploy("AgentRoles", identity.address, admin.address, 86400, 3600, 86400,
                        sender=admin)
    coord, _ = c.deploy("WorkflowCoordinator", identity.address, roles.address,
                        reputation.address, validation.address, VALIDATOR, admin.address,
                        sender=admin)
    c.transact(roles.functions.announceSlasher(coord.address), admin)  # no bond yet: at once
    for role in (EXEC, VALIDATOR):
        c.transact(roles.functions.configureRole(role, bond), admin)
    agents = {}
    for acct, role in ((op, EXEC), (v1, VALIDATOR), (v2, VALIDATOR)):
        receipt = c.transact(identity.functions.register(), acct)
        registered = identity.events.Registered().process_receipt(receipt, errors=DISCARD)
        agent_id = registered[0]["args"]["agentId"]
        agents[acct.address] = agent_id
        c.transact(roles.functions.bond(agent_id, role), acct, value=bond)
        c.transact(roles.functions.heartbeat(agent_id), acct)
    defn = _chain_def(c.chain_id, 1, quorum0=2, stake=STAKE)
    c.transact(coord.functions.registerDefinition(defn), creator)
    def_id = keccak(_encode_def(defn))
    total = DefinitionInfo.from_abi(coord.functions.definitionInfo(def_id).call()).totalReward

    def start() -> int:
        receipt = c.transact(coord.functions.startRun(def_id, b"\x11" * 32, "ipfs://input"),
                             creator, value=total)
        return int(coord.events.RunStarted().process_receipt(receipt)[0]["args"]["runId"])

    def claim_and_submit(run_id: int) -> tuple[int, int]:
        claimed = gas(c.transact(coord.functions.claim(run_id, 0, agents[op.address]), op))
        submitted = gas(c.transact(coord.functions.submit(
            run_id, 0, b"\x22" * 32, "ipfs://bafy-result-0", 0), op))
        return claimed, submitted

    first = start()
    out = {}
    out["claim_real_first"], submit_first = claim_and_submit(first)
    out["vote_real"] = gas(c.transact(coord.functions.respond(first, 0, agents[v1.address], 90),
                                      v1))
    out["vote_deciding_real"] = gas(c.transact(coord.functions.respond(
        first, 0, agents[v2.address], 100), v2))
    out["release_vote_stake_real"] = gas(c.transact(
        coord.functions.releaseVoteStake(first, 0, 0, v1.address), v1))
    out["step_life_q2_real_onchain"] = (out["claim_real_first"] + submit_first + out["vote_real"]
                                        + out["vote_deciding_real"]
                                        + out["release_vote_stake_real"])
    out["publish_outcomes"] = gas(c.transact(coord.functions.publishOutcomes(
        first, agents[op.address]), creator))

    second = start()
    out["claim_real"], out["submit_real"] = claim_and_submit(second)
    votes = [sign_vote(judge, c.chain_id, coord.address,
                       Vote(second, 0, 0, agents[judge.address], response))
             for judge, response in ((v1, 90), (v2, 100))]
    out["votes_signed_q2_real"] = gas(c.transact(coord.functions.respondSigned(second, 0, votes),
                                                 v1))
    out["step_life_q2_real"] = (out["claim_real"] + out["submit_real"]
                                + out["votes_signed_q2_real"])
    return out


def _encode_def(defn: tuple[Any, ...]) -> bytes:
    from eth_abi import encode
    return encode([abi_type(WorkflowDefinition)], [defn])
