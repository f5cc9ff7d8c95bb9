"""Remote steps on one chain: two coordinators (home and remote), a RemoteStepRouter each, and a
MockGateway that records sends and lets the test deliver any payload with any sender. The
remote router is reached as chain FAR from home; home is this chain's id. Every revert path of
the router and of the coordinator's remote hooks, the per-creator deposits that pay remote
tasks (and the drain attack they stop), and the router's ledger after every test:

    balance + coordinator.owed(router) + sum(escrow of Open requests' runs)
        == totalDeposits() + sum(reward - paid over Open requests)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ape
import pytest
from coord_helpers import (
    DISPATCHED,
    DONE,
    FAILED,
    R_CANCELLED,
    R_COMPLETED,
    R_FAILED,
    R_RUNNING,
    READY,
    REWARD,
    mask,
)
from eth_abi import decode, encode
from eth_utils import keccak

from accord.chain.results import commitment, find_result
from accord.chain.types import RequestState, Result, Task, abi_type
from accord.crosschain.messages import encode_interop_address

FAR = 999_999  # the chain id the home router uses for the remote router
Q_NONE, Q_UNFUNDED, Q_OPEN, Q_REPORTED = RequestState
TASK_ABI = abi_type(Task)
RESULT_ABI = abi_type(Result)
LEASE = 100
EMPTY = (b"\x00" * 32, "")  # no input / no result


@dataclass
class RR:
    w: Any
    gateway: Any
    home: Any        # home router (next to world.coordinator)
    remote: Any      # remote router
    rcoord: Any      # remote coordinator

    @property
    def home_id(self) -> bytes:
        return encode_interop_address(self.w.chain_id, self.home.address)

    @property
    def remote_id(self) -> bytes:
        return encode_interop_address(FAR, self.remote.address)

    def start(self, quorum: int = 0, attempts: int = 3, reward: int = REWARD,
              creator: Any = None) -> int:
        """local 0 -> remote 1 -> local 2, with step 0 done; started by ``creator`` (default
        the world's creator)."""
        w = self.w
        defn = w.define([w.spec(), _remote(w, deps=mask(0), quorum=quorum, attempts=attempts,
                                           reward=reward), w.spec(deps=mask(1))])
        run = w.start(defn, sender=creator)
        w.finish(run, 0)
        return run

    def result(self, run: int, step: int, coordinator: Any = None) -> tuple[bytes, str]:
        """The current result of ``step`` (EMPTY before any), read from its event the way an
        off-chain caller does (the coordinator keeps only its commitment)."""
        coordinator = coordinator or self.w.coordinator
        found = find_result(self.w.chain.provider.web3, coordinator.address, run, step)
        return EMPTY if found is None else (bytes(found.resultHash), str(found.resultURI))

    def input(self, run: int, step: int = 1) -> tuple[bytes, str]:
        """What ``dispatch`` must pass for ``step``: the result of its lowest-index Done
        dependency (EMPTY without one)."""
        c = self.w.coordinator
        info = c.runInfo(run)
        done = int(c.definitionStep(info.definitionId, step).deps) & int(info.doneMask)
        return self.result(run, (done & -done).bit_length() - 1) if done else EMPTY

    def dispatch(self, run: int) -> bytes:
        tx = self.w.coordinator.dispatch(run, 1, *self.input(run), sender=self.w.outsider)
        return bytes(tx.events.filter(self.gateway.Sent)[-1].payload)

    def deliver_task(self, payload: bytes, sender: bytes | None = None) -> Any:
        return self.gateway.deliver(self.remote.address, b"\x01" * 32, sender or self.home_id,
                                    payload, sender=self.w.outsider)

    def deliver_result(self, payload: bytes, sender: bytes | None = None) -> Any:
        return self.gateway.deliver(self.home.address, b"\x02" * 32, sender or self.remote_id,
                                    payload, sender=self.w.outsider)

    def rid(self, run: int, attempt: int = 0) -> bytes:
        return self.remote.requestIdOf(self.w.chain_id, self.w.coordinator.address, run, 1, attempt)

    def opened(self, run: int, attempt: int = 0) -> tuple[bytes, int]:
        """Dispatch (the creator deposits the reward first) and deliver: the request id and
        the remote run."""
        self.remote.deposit(self.w.creator, value=REWARD, sender=self.w.creator)
        self.deliver_task(self.dispatch(run))
        rid = self.rid(run, attempt)
        return rid, int(self.remote.request(rid).remoteRunId)

    def work(self, remote_run: int, quorum: int = 0) -> None:
        w, c = self.w, self.rcoord
        c.claim(remote_run, 0, w.agents[1], sender=w.operators[1])
        c.submit(remote_run, 0, b"\x77" * 32, "ipfs://remote", 0, sender=w.operators[1])
        for v in range(quorum):
            c.respond(remote_run, 0, w.validator_agents[v], 90, sender=w.validators[v])

    def outcome(self, rid: bytes) -> tuple[bytes, str]:
        """What ``report`` passes: the remote step's current result (EMPTY before any)."""
        return self.result(int(self.remote.request(rid).remoteRunId), 0, self.rcoord)

    def report(self, rid: bytes) -> bytes:
        tx = self.remote.report(rid, *self.outcome(rid), sender=self.w.outsider)
        return bytes(tx.events.filter(self.gateway.Sent)[-1].payload)

    def held(self, router: Any = None, coordinator: Any = None) -> int:
        router, coordinator = router or self.remote, coordinator or self.rcoord
        return (int(self.w.chain.provider.get_balance(router.address))
                + int(coordinator.owed(router.address)))

    def assert_ledger(self, router: Any = None, coordinator: Any = None) -> None:
        """The router's ledger, exactly: what it holds (balance, credit with the coordinator,
        the escrow of its Open runs) is every deposit plus what its Open runs have not paid."""
        router, coordinator = router or self.remote, coordinator or self.rcoord
        head = self.w.chain.blocks.head.number
        rids = {bytes(e.requestId) for e in router.TaskReceived.range(0, head + 1)}
        held, owed = self.held(router, coordinator), int(router.totalDeposits())
        assert held >= owed, ("deposits not covered", held, owed)
        for rid in rids:
            q = router.request(rid)
            if q.state != Q_OPEN:
                continue
            held += int(coordinator.runInfo(q.remoteRunId).escrow)
            paid = int(coordinator.stepState(q.remoteRunId, 0)) == DONE
            owed += 0 if paid else int(q.reward)
        assert held == owed, ("router ledger", held, owed)


@pytest.fixture(autouse=True)
def _router_ledgers(rr: RR) -> Iterator[None]:
    """Both routers' ledgers hold after every test."""
    yield
    rr.assert_ledger()
    rr.assert_ledger(rr.home, rr.w.coordinator)


def _remote(w: Any, **kw: Any) -> tuple[Any, ...]:
    s = list(w.spec(lease=LEASE, **kw))
    s[-1] = FAR
    return tuple(s)


def _result(run: int, attempt: int, success: bool = True) -> bytes:
    return encode(["uint256", RESULT_ABI], [2, (run, 1, attempt, b"\x55" * 32, "ipfs://r", success)])


@pytest.fixture(scope="module")
def rr(world, project) -> RR:
    w = world
    gateway = project.MockGateway.deploy(sender=w.admin)
    rcoord = project.WorkflowCoordinator.deploy(
        w.identity.address, w.roles.address, w.reputation.address, w.validation.address,
        w.coordinator.registries()[4], w.admin.address, sender=w.admin)
    home = project.RemoteStepRouter.deploy(w.coordinator.address, gateway.address, w.admin.address,
                                           sender=w.admin)
    remote = project.RemoteStepRouter.deploy(rcoord.address, gateway.address, w.admin.address,
                                             sender=w.admin)
    w.coordinator.setRouter(home.address, sender=w.admin)
    home.setRemoteRouter(FAR, remote.address, sender=w.admin)
    remote.setRemoteRouter(w.chain_id, home.address, sender=w.admin)
    return RR(w, gateway, home, remote, rcoord)


# ---------------------------------------------------------------- wiring and definitions
@pytest.mark.covers("WorkflowCoordinator.setRouter", "wrong_caller")
def test_set_router_is_owner_only_and_emits(rr):
    c = rr.w.coordinator
    with ape.reverts(c.OwnableUnauthorizedAccount, account=rr.w.outsider.address):
        c.setRouter(rr.w.outsider.address, sender=rr.w.outsider)
    tx = c.setRouter(rr.home.address, sender=rr.w.admin)
    assert tx.events.filter(c.RouterSet)[0].router == rr.home.address
    assert c.router() == rr.home.address


@pytest.mark.covers("RemoteStepRouter.setRemoteRouter", "wrong_caller")
def test_set_remote_router_is_owner_only(rr):
    with ape.reverts(rr.home.OwnableUnauthorizedAccount, account=rr.w.outsider.address):
        rr.home.setRemoteRouter(5, rr.w.outsider.address, sender=rr.w.outsider)
    assert rr.home.knowsChain(FAR) and not rr.home.knowsChain(5)
    assert tuple(rr.home.wiring()) == (rr.w.coordinator.address, rr.gateway.address)


@pytest.mark.covers("WorkflowCoordinator.registerDefinition", "bad_arguments")
def test_define_reverts_for_a_chain_the_router_does_not_know(rr):
    w = rr.w
    step = list(w.spec())
    step[-1] = 5
    with ape.reverts(w.coordinator.CoordinatorRemoteStepUnsupported, step=0, chainId=5):
        w.define([tuple(step)])


def test_define_reverts_for_a_remote_decision_or_compensation(rr):
    w = rr.w
    with ape.reverts(w.coordinator.CoordinatorRemoteStepUnsupported, step=0, chainId=FAR):
        w.define([_remote(w, decision=True), w.spec(deps=mask(0))])
    with ape.reverts(w.coordinator.CoordinatorRemoteStepUnsupported, step=1, chainId=FAR):
        w.define([w.spec(comp=1), _remote(w)])


# ---------------------------------------------------------------- dispatch (home)
def test_dispatch_sends_the_task_with_spec_and_input(rr):
    w, c = rr.w, rr.w.coordinator
    run = rr.start(quorum=2)
    assert rr.input(run) == (b"\x22" * 32, "ipfs://result")  # step 0's result, from its event
    tx = c.dispatch(run, 1, b"\x22" * 32, "ipfs://result", sender=w.outsider)
    ev = tx.events.filter(c.StepDispatched)[0]
    assert (ev.runId, ev.step, ev.chainId, ev.attempt) == (run, 1, FAR, 0)
    assert ev.deadline == w.now() + 8 * LEASE
    assert w.state(run, 1) == DISPATCHED
    sent = tx.events.filter(rr.gateway.Sent)[0]
    assert sent.sender == rr.home.address and bytes(sent.recipient) == rr.remote_id
    kind, task = decode(["uint256", TASK_ABI], bytes(sent.payload))
    assert kind == 1
    assert (task[0], task[1].lower(), task[2:5]) == (w.chain_id, c.address.lower(), (run, 1, 0))
    assert task[6:11] == (2, LEASE, 3, REWARD, ev.deadline)
    assert task[11:13] == (b"\x22" * 32, "ipfs://result")  # step 0's result is the input
    assert task[13].lower() == w.creator.address.lower()  # the home run's creator pays on the remote chain
    assert tx.events.filter(rr.home.TaskSent)[0].chainId == FAR


@pytest.mark.covers("WorkflowCoordinator.claim", "bad_arguments")
def test_claim_reverts_for_a_remote_step(rr):
    run = rr.start()
    with ape.reverts(rr.w.coordinator.CoordinatorStepIsRemote, runId=run, step=1, chainId=FAR):
        rr.w.claim(run, 1)


@pytest.mark.covers("WorkflowCoordinator.dispatch", "bad_arguments")
def test_dispatch_reverts_for_a_local_step(rr):
    run = rr.start()
    with ape.reverts(rr.w.coordinator.CoordinatorStepNotRemote, runId=run, step=0):
        rr.w.coordinator.dispatch(run, 0, *EMPTY, sender=rr.w.outsider)


@pytest.mark.covers("WorkflowCoordinator.dispatch", "wrong_state", "replay")
def test_dispatch_reverts_when_not_ready_or_paused(rr):
    w, c = rr.w, rr.w.coordinator
    run = rr.start()
    rr.dispatch(run)
    with ape.reverts(c.CoordinatorStepNotReady, runId=run, step=1, state=DISPATCHED):
        c.dispatch(run, 1, *rr.input(run), sender=w.outsider)
    c.pauseRun(run, sender=w.creator)
    with ape.reverts(c.CoordinatorRunNotRunning, runId=run, state=2):
        c.dispatch(run, 1, *rr.input(run), sender=w.outsider)


@pytest.mark.covers("WorkflowCoordinator.dispatch", "wrong_state")
@pytest.mark.covers("RemoteStepRouter.sendTask", "bad_arguments")
def test_dispatch_reverts_without_router_or_known_chain(rr):
    w, c = rr.w, rr.w.coordinator
    run = rr.start()
    rr.home.setRemoteRouter(FAR, "0x" + "00" * 20, sender=w.admin)
    with ape.reverts(rr.home.RouterUnknownChain, chainId=FAR):
        c.dispatch(run, 1, *rr.input(run), sender=w.outsider)
    c.setRouter("0x" + "00" * 20, sender=w.admin)
    with ape.reverts(c.CoordinatorNoRouter):
        c.dispatch(run, 1, *rr.input(run), sender=w.outsider)


@pytest.mark.covers("RemoteStepRouter.sendTask", "wrong_caller")
def test_send_task_is_coordinator_only(rr):
    with ape.reverts(rr.home.RouterNotCoordinator, caller=rr.w.outsider.address):
        rr.home.sendTask(1, 1, FAR, 0, 0, *EMPTY, sender=rr.w.outsider)


# ---------------------------------------------------------------- dispatch input (home)
WRONG_INPUTS = {
    "wrong_hash": (b"\x23" * 32, "ipfs://result"),
    "wrong_uri": (b"\x22" * 32, "ipfs://other"),
    "empty": EMPTY,
    "the_run_input": (b"\x11" * 32, "ipfs://input"),
}


@pytest.mark.parametrize("given", list(WRONG_INPUTS))
@pytest.mark.covers("WorkflowCoordinator.dispatch", "bad_arguments")
def test_dispatch_with_an_input_that_is_not_the_dependency_result_reverts_and_changes_nothing(
        rr, given):
    w, c = rr.w, rr.w.coordinator
    run = rr.start()  # step 0 Done with (0x22.., "ipfs://result"): step 1's input
    lease = tuple(c.lease(run, 1))
    with ape.reverts(c.CoordinatorResultMismatch, runId=run, step=0):
        c.dispatch(run, 1, *WRONG_INPUTS[given], sender=w.outsider)
    assert w.state(run, 1) == READY and tuple(c.lease(run, 1)) == lease
    assert rr.remote.request(rr.rid(run)).state == Q_NONE  # nothing went out
    # the right input still sends attempt 0
    _, task = decode(["uint256", TASK_ABI], rr.dispatch(run))
    assert (task[4], task[11:13]) == (0, (b"\x22" * 32, "ipfs://result"))


@pytest.mark.parametrize("given", [(b"\x22" * 32, "ipfs://result"), (b"\x00" * 32, "ipfs://x"),
                                   (b"\x01" * 32, ""), (b"\x11" * 32, "ipfs://input")])
@pytest.mark.covers("WorkflowCoordinator.dispatch", "bad_arguments")
def test_dispatch_with_an_input_for_a_step_without_a_done_dependency_reverts(rr, given):
    w, c = rr.w, rr.w.coordinator
    run = w.run_of([w.spec(), _remote(w)])  # step 1: remote, no dependency
    w.finish(run, 0)  # a Done step that is not a dependency gives no input
    with ape.reverts(c.CoordinatorResultMismatch, runId=run, step=255):
        c.dispatch(run, 1, *given, sender=w.outsider)
    assert w.state(run, 1) == READY
    assert rr.input(run) == EMPTY
    _, task = decode(["uint256", TASK_ABI], rr.dispatch(run))
    assert task[11:13] == EMPTY
    assert w.state(run, 1) == DISPATCHED


@pytest.mark.covers("WorkflowCoordinator.dispatch", "bad_arguments")
def test_dispatch_input_is_the_result_of_the_lowest_index_done_dependency(rr):
    w, c = rr.w, rr.w.coordinator
    # step 2 (remote) waits for either of steps 0 and 1 (join 1)
    run = w.run_of([w.spec(), w.spec(), _remote(w, deps=mask(0, 1), join=1)])
    w.claim(run, 1)
    w.submit(run, 1, result=b"\x33" * 32, uri="ipfs://one")
    assert w.state(run, 2) == READY and w.state(run, 0) == READY
    with ape.reverts(c.CoordinatorResultMismatch, runId=run, step=1):
        c.dispatch(run, 2, *EMPTY, sender=w.outsider)  # step 1 is Done: its result is due
    w.finish(run, 0)  # now step 0 is the lowest Done dependency
    with ape.reverts(c.CoordinatorResultMismatch, runId=run, step=0):
        c.dispatch(run, 2, b"\x33" * 32, "ipfs://one", sender=w.outsider)
    assert w.state(run, 2) == READY
    assert rr.input(run, 2) == (b"\x22" * 32, "ipfs://result")
    tx = c.dispatch(run, 2, b"\x22" * 32, "ipfs://result", sender=w.outsider)
    _, task = decode(["uint256", TASK_ABI], bytes(tx.events.filter(rr.gateway.Sent)[-1].payload))
    assert task[11:13] == (b"\x22" * 32, "ipfs://result")


@pytest.mark.covers("WorkflowCoordinator.dispatch", "bad_arguments")
def test_redispatch_with_a_wrong_input_reverts_before_the_passed_deadline_is_materialised(rr):
    w, c = rr.w, rr.w.coordinator
    run = rr.start()
    rr.dispatch(run)
    w.warp_to(w.now() + 8 * LEASE)
    lease = tuple(c.lease(run, 1))
    assert w.state(run, 1) == READY and lease[3] == 1  # derived: the deadline passed
    with ape.reverts(c.CoordinatorResultMismatch, runId=run, step=0):
        c.dispatch(run, 1, b"\x22" * 32, "ipfs://other", sender=w.outsider)
    assert w.state(run, 1) == READY and tuple(c.lease(run, 1)) == lease
    tx = c.dispatch(run, 1, *rr.input(run), sender=w.outsider)
    assert tx.events.filter(c.RemoteStepExpired)[0].attempt == 1
    assert tx.events.filter(c.StepDispatched)[0].attempt == 1


# ---------------------------------------------------------------- receive (remote)
def test_funded_task_opens_a_one_step_remote_run(rr):
    w = rr.w
    run = rr.start(quorum=1)
    rr.remote.deposit(w.creator, value=REWARD, sender=w.creator)
    tx = rr.deliver_task(rr.dispatch(run))
    rid = rr.rid(run)
    opened = tx.events.filter(rr.remote.TaskOpened)[0]
    assert (opened.requestId, opened.runId, opened.step) == (rid, run, 1)
    charged = tx.events.filter(rr.remote.DepositCharged)[0]
    assert (charged.creator, charged.requestId, charged.amount, charged.balance) == (
        w.creator.address, rid, REWARD, 0)
    req = rr.remote.request(rid)
    assert (req.state, req.homeRunId, req.homeChainId, req.reward, req.creator) == (
        Q_OPEN, run, w.chain_id, REWARD, w.creator.address)
    assert rr.remote.depositOf(w.creator) == 0 and rr.remote.totalDeposits() == 0
    remote_run = req.remoteRunId
    assert rr.rcoord.runInfo(remote_run).creator == rr.remote.address
    assert rr.rcoord.stepState(remote_run, 0) == READY
    spec = rr.rcoord.definitionStep(req.definitionId, 0)
    assert (spec.quorum, spec.leaseSeconds, spec.reward, spec.chainId) == (1, LEASE, REWARD,
                                                                           w.chain_id)
    assert rr.w.chain.provider.get_balance(rr.remote.address) == 0


@pytest.mark.covers("RemoteStepRouter.receiveMessage", "wrong_caller")
def test_receive_reverts_unless_from_the_gateway(rr):
    with ape.reverts(rr.remote.RouterUnauthorizedGateway, caller=rr.w.outsider.address):
        rr.remote.receiveMessage(b"\x00" * 32, rr.home_id, b"", sender=rr.w.outsider)


@pytest.mark.covers("RemoteStepRouter.receiveMessage", "wrong_caller")
def test_receive_reverts_for_an_untrusted_sender(rr):
    bad = encode_interop_address(rr.w.chain_id, rr.w.outsider.address)
    with ape.reverts(rr.remote.RouterUntrustedSender, sender=bad):
        rr.deliver_task(b"", sender=bad)
    wrong_chain = encode_interop_address(7, rr.home.address)
    with ape.reverts(rr.remote.RouterUntrustedSender, sender=wrong_chain):
        rr.deliver_task(b"", sender=wrong_chain)


@pytest.mark.covers("RemoteStepRouter.receiveMessage", "bad_arguments")
def test_receive_reverts_for_an_unknown_kind(rr):
    with ape.reverts(rr.remote.RouterUnknownMessageKind, kind=7):
        rr.deliver_task(encode(["uint256"], [7]))


@pytest.mark.covers("RemoteStepRouter.receiveMessage", "bad_arguments")
def test_task_reverts_when_its_home_chain_is_not_the_sender_chain(rr):
    run = rr.start()
    payload = rr.dispatch(run)
    rr.remote.setRemoteRouter(FAR, rr.home.address, sender=rr.w.admin)
    with ape.reverts(rr.remote.RouterTaskChainMismatch, homeChainId=rr.w.chain_id,
                     senderChainId=FAR):
        rr.deliver_task(payload, sender=encode_interop_address(FAR, rr.home.address))


@pytest.mark.covers("RemoteStepRouter.receiveMessage", "replay")
def test_a_task_delivered_twice_reverts(rr):
    run = rr.start()
    payload = rr.dispatch(run)
    rr.deliver_task(payload)
    with ape.reverts(rr.remote.RouterDuplicateRequest, requestId=rr.rid(run)):
        rr.deliver_task(payload)


@pytest.mark.covers("RemoteStepRouter.open", "wrong_state", "bad_arguments", "replay")
def test_unfunded_task_waits_then_anyone_opens_it_after_the_creator_deposits(rr):
    w = rr.w
    run = rr.start()
    rr.remote.deposit(w.creator, value=REWARD - 1, sender=w.creator)
    tx = rr.deliver_task(rr.dispatch(run))
    rid = rr.rid(run)
    ev = tx.events.filter(rr.remote.TaskUnfunded)[0]
    assert (ev.creator, ev.balance, ev.needed) == (w.creator.address, REWARD - 1, REWARD)
    assert rr.remote.request(rid).state == Q_UNFUNDED
    rr.assert_ledger()
    with ape.reverts(rr.remote.RouterUnfunded, requestId=rid, creator=w.creator.address,
                     balance=REWARD - 1, needed=REWARD):
        rr.remote.open(rid, sender=w.outsider)
    rr.remote.deposit(w.creator, value=1, sender=w.outsider)  # anyone may top it up
    tx = rr.remote.open(rid, sender=w.outsider)
    assert tx.events.filter(rr.remote.TaskOpened)[0].requestId == rid
    with ape.reverts(rr.remote.RouterRequestNotUnfunded, requestId=rid, state=Q_OPEN):
        rr.remote.open(rid, sender=w.outsider)
    with ape.reverts(rr.remote.RouterUnknownRequest, requestId=b"\x09" * 32):
        rr.remote.open(b"\x09" * 32, sender=w.outsider)


@pytest.mark.covers("RemoteStepRouter.open", "wrong_state")
def test_open_reverts_after_the_deadline(rr):
    w = rr.w
    run = rr.start()
    payload = rr.dispatch(run)
    _, task = decode(["uint256", TASK_ABI], payload)
    rr.deliver_task(payload)
    rr.remote.deposit(w.creator, value=REWARD, sender=w.creator)
    w.warp_to(task[10])
    with ape.reverts(rr.remote.RouterRequestExpired, requestId=rr.rid(run), deadline=task[10]):
        rr.remote.open(rr.rid(run), sender=w.outsider)


@pytest.mark.covers("RemoteStepRouter.receiveMessage", "wrong_state")
def test_a_task_arriving_after_its_deadline_is_not_opened(rr):
    w = rr.w
    run = rr.start()
    payload = rr.dispatch(run)
    rr.remote.deposit(w.creator, value=REWARD, sender=w.creator)
    w.warp_to(w.now() + 8 * LEASE + 1)
    tx = rr.deliver_task(payload)
    assert tx.events.filter(rr.remote.TaskExpired)[0].requestId == rr.rid(run)
    assert rr.remote.request(rr.rid(run)).state == Q_UNFUNDED


def test_plain_value_is_refused(rr):
    with ape.reverts(rr.remote.RouterUnexpectedValue, caller=rr.w.creator.address):
        rr.w.creator.transfer(rr.remote.address, 1)


# ---------------------------------------------------------------- report (remote)
@pytest.mark.covers("RemoteStepRouter.report", "wrong_state", "bad_arguments", "replay")
def test_report_sends_the_result_once(rr):
    w = rr.w
    run = rr.start(quorum=1)
    rid, remote_run = rr.opened(run)
    with ape.reverts(rr.remote.RouterRunNotFinished, requestId=rid, runState=R_RUNNING,
                     escrow=REWARD):
        rr.remote.report(rid, *EMPTY, sender=w.outsider)
    rr.work(remote_run, quorum=1)
    assert rr.rcoord.runState(remote_run) == R_COMPLETED
    assert rr.outcome(rid) == (b"\x77" * 32, "ipfs://remote")  # from the StepSubmitted event
    kind, res = decode(["uint256", RESULT_ABI], rr.report(rid))
    assert kind == 2 and res == (run, 1, 0, b"\x77" * 32, "ipfs://remote", True)
    assert rr.remote.request(rid).state == Q_REPORTED
    with ape.reverts(rr.remote.RouterAlreadyReported, requestId=rid):
        rr.remote.report(rid, b"\x77" * 32, "ipfs://remote", sender=w.outsider)
    with ape.reverts(rr.remote.RouterUnknownRequest, requestId=b"\x09" * 32):
        rr.remote.report(b"\x09" * 32, *EMPTY, sender=w.outsider)


@pytest.mark.covers("RemoteStepRouter.report", "wrong_state")
def test_report_reverts_for_an_unfunded_request(rr):
    run = rr.start()
    rr.deliver_task(rr.dispatch(run))
    with ape.reverts(rr.remote.RouterRequestNotOpen, requestId=rr.rid(run), state=Q_UNFUNDED):
        rr.remote.report(rr.rid(run), *EMPTY, sender=rr.w.outsider)


WRONG_RESULTS = {
    "wrong_hash": (b"\x78" * 32, "ipfs://remote"),
    "wrong_uri": (b"\x77" * 32, "ipfs://remote2"),
    "empty": EMPTY,
    "the_task_input": (b"\x22" * 32, "ipfs://result"),
}


@pytest.mark.parametrize("given", list(WRONG_RESULTS))
@pytest.mark.covers("RemoteStepRouter.report", "bad_arguments")
def test_report_of_a_done_remote_step_with_another_result_reverts_and_stays_open(rr, given):
    w = rr.w
    run = rr.start(quorum=1)
    rid, remote_run = rr.opened(run)
    rr.work(remote_run, quorum=1)  # submitted (0x77.., "ipfs://remote"), approved: Done
    assert rr.rcoord.runState(remote_run) == R_COMPLETED
    with ape.reverts(rr.remote.RouterResultMismatch, requestId=rid):
        rr.remote.report(rid, *WRONG_RESULTS[given], sender=w.outsider)
    assert rr.remote.request(rid).state == Q_OPEN
    assert rr.remote.depositOf(w.creator) == 0
    rr.assert_ledger()
    # the submitted result is reported
    _, res = decode(["uint256", RESULT_ABI], rr.report(rid))
    assert res == (run, 1, 0, b"\x77" * 32, "ipfs://remote", True)
    assert rr.remote.request(rid).state == Q_REPORTED


@pytest.mark.covers("RemoteStepRouter.report", "bad_arguments")
def test_report_with_a_rejected_attempts_result_reverts(rr):
    """Only the latest submission is the step's result: a rejected one no longer matches."""
    w, c = rr.w, rr.rcoord
    run = rr.start(quorum=1)
    rid, remote_run = rr.opened(run)
    c.claim(remote_run, 0, w.agents[1], sender=w.operators[1])
    c.submit(remote_run, 0, b"\x66" * 32, "ipfs://bad", 0, sender=w.operators[1])
    c.respond(remote_run, 0, w.validator_agents[0], 10, sender=w.validators[0])  # rejected
    assert c.stepState(remote_run, 0) == READY  # a remote run's step has no backoff
    rr.work(remote_run, quorum=1)
    assert c.runState(remote_run) == R_COMPLETED
    with ape.reverts(rr.remote.RouterResultMismatch, requestId=rid):
        rr.remote.report(rid, b"\x66" * 32, "ipfs://bad", sender=w.outsider)
    assert rr.remote.request(rid).state == Q_OPEN
    assert rr.outcome(rid) == (b"\x77" * 32, "ipfs://remote")  # the newest matching event
    _, res = decode(["uint256", RESULT_ABI], rr.report(rid))
    assert res[3:] == (b"\x77" * 32, "ipfs://remote", True)


@pytest.mark.parametrize("given", [(b"\x66" * 32, "ipfs://bad"), (b"\x77" * 32, "ipfs://remote")])
@pytest.mark.parametrize("how", ["expired", "failed"])
@pytest.mark.covers("RemoteStepRouter.report", "bad_arguments")
def test_report_of_an_unpaid_request_ignores_the_result_given(rr, how, given):
    """Cancelled (deadline passed) or failed (rejected on its last attempt): the pair passed
    is not checked and not sent, even the rejected submission's own (which matches the
    remote commitment); the result home carries no hash and no URI."""
    w, c = rr.w, rr.rcoord
    run = rr.start(quorum=1, attempts=1)
    rid, remote_run = rr.opened(run)
    if how == "failed":
        c.claim(remote_run, 0, w.agents[1], sender=w.operators[1])
        c.submit(remote_run, 0, b"\x66" * 32, "ipfs://bad", 0, sender=w.operators[1])
        c.respond(remote_run, 0, w.validator_agents[0], 10, sender=w.validators[0])
        assert c.runState(remote_run) == R_FAILED
    else:
        w.warp_to(int(rr.remote.request(rid).deadline))
    tx = rr.remote.report(rid, *given, sender=w.outsider)
    payload = bytes(tx.events.filter(rr.gateway.Sent)[-1].payload)
    _, res = decode(["uint256", RESULT_ABI], payload)
    assert res == (run, 1, 0, b"\x00" * 32, "", False)
    assert not tx.events.filter(rr.remote.ResultSent)[0].success
    assert rr.remote.request(rid).state == Q_REPORTED
    assert rr.remote.depositOf(w.creator) == REWARD  # refunded
    rr.assert_ledger()
    # home: the failure arrives with no result (past the deadline, when the home deadline
    # passed too, it is ignored); either way the step's commitment stays empty
    home = rr.w.coordinator
    tx = rr.deliver_result(payload)
    if how == "failed":
        got = tx.events.filter(home.RemoteResultReceived)[0]
        assert (bytes(got.resultHash), got.resultURI, got.success) == (b"\x00" * 32, "", False)
    else:
        assert tx.events.filter(home.RemoteResultIgnored)[0].state == FAILED  # its last attempt
    assert bytes(home.resultCommitment(run, 1)) == b"\x00" * 32
    assert rr.result(run, 1) == EMPTY


def test_report_after_the_deadline_cancels_the_run_and_refunds_the_creators_deposit(rr):
    w = rr.w
    run = rr.start()
    rid, remote_run = rr.opened(run)
    rr.remote.deposit(w.outsider, value=3 * REWARD, sender=w.outsider)  # a bystander
    rr.assert_ledger()
    w.warp_to(int(rr.remote.request(rid).deadline))
    tx = rr.remote.report(rid, *EMPTY, sender=w.outsider)
    _, res = decode(["uint256", RESULT_ABI], bytes(tx.events.filter(rr.gateway.Sent)[-1].payload))
    assert res[5] is False
    assert rr.rcoord.runState(remote_run) == R_CANCELLED
    refunded = tx.events.filter(rr.remote.DepositRefunded)[0]
    assert (refunded.creator, refunded.requestId, refunded.amount, refunded.balance) == (
        w.creator.address, rid, REWARD, REWARD)
    assert rr.remote.depositOf(w.creator) == REWARD
    assert rr.remote.depositOf(w.outsider) == 3 * REWARD
    rr.assert_ledger()
    tx = rr.remote.reclaim(sender=w.outsider)
    assert tx.events.filter(rr.remote.Reclaimed)[0].amount == REWARD
    assert w.chain.provider.get_balance(rr.remote.address) == 4 * REWARD
    rr.assert_ledger()


def test_failed_remote_run_refunds_the_creators_deposit_and_reports_failure(rr):
    w, c = rr.w, rr.rcoord
    run = rr.start(quorum=1, attempts=1)
    rid, remote_run = rr.opened(run)
    rr.remote.deposit(w.outsider, value=REWARD, sender=w.outsider)  # a bystander
    c.claim(remote_run, 0, w.agents[1], sender=w.operators[1])
    c.submit(remote_run, 0, b"\x66" * 32, "ipfs://bad", 0, sender=w.operators[1])
    rr.assert_ledger()
    c.respond(remote_run, 0, w.validator_agents[0], 10, sender=w.validators[0])  # rejected
    assert c.runState(remote_run) == R_FAILED
    rr.assert_ledger()  # the refund is credited to the router, not yet to a deposit
    tx = rr.remote.report(rid, *EMPTY, sender=w.outsider)
    _, res = decode(["uint256", RESULT_ABI], bytes(tx.events.filter(rr.gateway.Sent)[-1].payload))
    assert res == (run, 1, 0, b"\x00" * 32, "", False)
    refunded = tx.events.filter(rr.remote.DepositRefunded)[0]
    assert (refunded.creator, refunded.amount) == (w.creator.address, REWARD)
    assert (rr.remote.depositOf(w.creator), rr.remote.depositOf(w.outsider)) == (REWARD, REWARD)
    assert c.owed(w.operators[1]) == 0
    rr.assert_ledger()
    # the refund still sits with the coordinator: the balance pays the first withdrawal,
    # the second pulls the refund
    tx = rr.remote.withdrawDeposit(REWARD, w.creator.address, sender=w.creator)
    assert not tx.events.filter(rr.remote.Reclaimed)
    rr.assert_ledger()
    before = w.outsider.balance
    tx = rr.remote.withdrawDeposit(REWARD, w.outsider.address, sender=w.outsider)
    assert tx.events.filter(rr.remote.Reclaimed)[0].amount == REWARD
    assert w.outsider.balance == before + REWARD - tx.total_fees_paid
    assert rr.remote.totalDeposits() == 0 and rr.held() == 0
    rr.assert_ledger()


def test_completed_remote_run_refunds_nothing_and_the_executor_keeps_the_reward(rr):
    w = rr.w
    run = rr.start(quorum=1)
    rid, remote_run = rr.opened(run)
    rr.work(remote_run, quorum=1)
    rr.assert_ledger()
    tx = rr.remote.report(rid, b"\x77" * 32, "ipfs://remote", sender=w.outsider)
    assert not tx.events.filter(rr.remote.DepositRefunded)
    assert rr.remote.depositOf(w.creator) == 0
    assert rr.rcoord.owed(w.operators[1]) == REWARD
    rr.assert_ledger()


# ---------------------------------------------------------------- results (home)
def test_result_completes_the_step_and_readies_its_dependents(rr):
    w, c = rr.w, rr.w.coordinator
    run = rr.start(quorum=1)
    rid, remote_run = rr.opened(run)
    rr.work(remote_run, quorum=1)
    tx = rr.deliver_result(rr.report(rid))
    got = tx.events.filter(c.RemoteResultReceived)[0]
    assert (got.runId, got.step, got.attempt, got.success) == (run, 1, 0, True)
    done = tx.events.filter(c.StepDone)[0]
    assert (done.payee, done.reward) == (w.creator.address, REWARD)
    assert tx.events.filter(rr.home.ResultReceived)[0].chainId == FAR
    assert w.state(run, 1) == DONE and w.state(run, 2) == READY
    assert bytes(c.resultCommitment(run, 1)) == commitment(b"\x77" * 32, "ipfs://remote")
    assert rr.result(run, 1) == (b"\x77" * 32, "ipfs://remote")  # from RemoteResultReceived
    w.finish(run, 2)
    assert c.runState(run) == R_COMPLETED


@pytest.mark.covers("WorkflowCoordinator.completeRemote", "wrong_caller")
def test_complete_remote_is_router_only(rr):
    c = rr.w.coordinator
    with ape.reverts(c.CoordinatorNotRouter, caller=rr.w.outsider.address):
        c.completeRemote(1, 1, 0, FAR, b"\x00" * 32, "", True, sender=rr.w.outsider)


@pytest.mark.covers("WorkflowCoordinator.completeRemote", "bad_arguments")
def test_result_for_a_stale_attempt_is_ignored(rr):
    w, c = rr.w, rr.w.coordinator
    run = rr.start()
    rr.dispatch(run)
    tx = rr.deliver_result(_result(run, 5))
    ev = tx.events.filter(c.RemoteResultIgnored)[0]
    assert (ev.attempt, ev.state) == (5, DISPATCHED)
    assert w.state(run, 1) == DISPATCHED


@pytest.mark.covers("WorkflowCoordinator.completeRemote", "wrong_state")
def test_result_after_the_deadline_is_ignored(rr):
    w, c = rr.w, rr.w.coordinator
    run = rr.start()
    rr.dispatch(run)
    w.warp_to(w.now() + 8 * LEASE)
    tx = rr.deliver_result(_result(run, 0))
    assert tx.events.filter(c.RemoteResultIgnored)[0].state == READY
    assert w.state(run, 1) == READY


@pytest.mark.covers("WorkflowCoordinator.completeRemote", "bad_arguments")
def test_result_from_another_chain_is_ignored(rr):
    w, c = rr.w, rr.w.coordinator
    run = rr.start()
    rr.dispatch(run)
    rr.home.setRemoteRouter(7, rr.remote.address, sender=w.admin)
    tx = rr.deliver_result(_result(run, 0), sender=encode_interop_address(7, rr.remote.address))
    assert tx.events.filter(c.RemoteResultIgnored)[0].state == DISPATCHED


def test_failure_result_retries_then_fails_the_run(rr):
    w, c = rr.w, rr.w.coordinator
    run = rr.start(attempts=2)
    rr.dispatch(run)
    rr.deliver_result(_result(run, 0, success=False))
    assert w.state(run, 1) == READY
    tx = c.dispatch(run, 1, *rr.input(run), sender=w.outsider)
    assert tx.events.filter(c.StepDispatched)[0].attempt == 1
    tx = rr.deliver_result(_result(run, 1, success=False))
    assert tx.events.filter(c.StepFailed)[0].step == 1
    assert w.state(run, 1) == FAILED and c.runState(run) == R_FAILED


# ---------------------------------------------------------------- deadline (home)
@pytest.mark.covers("WorkflowCoordinator.expireRemote", "wrong_state")
def test_expire_remote_reverts_before_the_deadline(rr):
    w, c = rr.w, rr.w.coordinator
    run = rr.start()
    with ape.reverts(c.CoordinatorRemoteNotExpired, runId=run, step=1, state=READY):
        c.expireRemote(run, 1, sender=w.outsider)
    rr.dispatch(run)
    with ape.reverts(c.CoordinatorRemoteNotExpired, runId=run, step=1, state=DISPATCHED):
        c.expireRemote(run, 1, sender=w.outsider)


def test_passed_deadline_makes_the_step_ready_again_then_failed(rr):
    w, c = rr.w, rr.w.coordinator
    run = rr.start(attempts=2)
    rr.dispatch(run)
    w.warp_to(w.now() + 8 * LEASE)
    assert w.state(run, 1) == READY
    assert c.lease(run, 1)[3] == 1  # derived attempt
    tx = c.expireRemote(run, 1, sender=w.outsider)
    assert tx.events.filter(c.RemoteStepExpired)[0].attempt == 1
    rr.dispatch(run)
    w.warp_to(w.now() + 8 * LEASE)
    assert w.state(run, 1) == FAILED
    tx = c.expireRemote(run, 1, sender=w.outsider)
    assert tx.events.filter(c.StepFailed)[0].step == 1
    assert c.runState(run) == R_FAILED


def test_dispatch_after_a_passed_deadline_materialises_it(rr):
    w, c = rr.w, rr.w.coordinator
    run = rr.start()
    rr.dispatch(run)
    w.warp_to(w.now() + 8 * LEASE)
    tx = c.dispatch(run, 1, *rr.input(run), sender=w.outsider)
    assert tx.events.filter(c.RemoteStepExpired)[0].attempt == 1
    assert tx.events.filter(c.StepDispatched)[0].attempt == 1


# ---------------------------------------------------------------- negatives for the matrix
ZERO = "0x" + "00" * 20


@pytest.mark.covers("WorkflowCoordinator.expireRemote", "replay")
def test_expire_remote_twice_reverts_and_counts_one_attempt(rr):
    w, c = rr.w, rr.w.coordinator
    run = rr.start()
    rr.dispatch(run)
    w.warp_to(w.now() + 8 * LEASE)
    c.expireRemote(run, 1, sender=w.outsider)
    with ape.reverts(c.CoordinatorRemoteNotExpired, runId=run, step=1, state=READY):
        c.expireRemote(run, 1, sender=w.outsider)
    assert c.lease(run, 1)[3] == 1


@pytest.mark.covers("WorkflowCoordinator.completeRemote", "replay")
def test_result_delivered_twice_is_ignored_and_credits_once(rr):
    w, c = rr.w, rr.w.coordinator
    run = rr.start()
    rr.dispatch(run)
    rr.deliver_result(_result(run, 0))
    owed = c.owed(w.creator)
    tx = rr.deliver_result(_result(run, 0))
    assert tx.events.filter(c.RemoteResultIgnored)[0].state == DONE
    assert not tx.events.filter(c.StepDone)
    assert c.owed(w.creator) == owed


@pytest.mark.covers("RemoteStepRouter.reclaim", "wrong_state", "replay")
def test_reclaim_with_nothing_owed_reverts_and_pays_once(rr):
    w = rr.w
    with ape.reverts(rr.rcoord.CoordinatorNothingToWithdraw, account=rr.remote.address):
        rr.remote.reclaim(sender=w.outsider)
    run = rr.start()
    rid, _ = rr.opened(run)
    w.warp_to(int(rr.remote.request(rid).deadline))
    rr.report(rid)  # cancels the remote run: its escrow is owed to the router
    rr.remote.reclaim(sender=w.outsider)
    with ape.reverts(rr.rcoord.CoordinatorNothingToWithdraw, account=rr.remote.address):
        rr.remote.reclaim(sender=w.outsider)


def _owned(rr, which):
    return rr.w.coordinator if which == "coordinator" else rr.home


@pytest.mark.parametrize("which", ["coordinator", "router"])
@pytest.mark.covers("WorkflowCoordinator.transferOwnership", "wrong_caller", "bad_arguments", "replay")
@pytest.mark.covers("RemoteStepRouter.transferOwnership", "wrong_caller", "bad_arguments", "replay")
def test_transfer_ownership_is_owner_only_rejects_zero_and_cannot_be_repeated(rr, which):
    c, w = _owned(rr, which), rr.w
    with ape.reverts(c.OwnableUnauthorizedAccount, account=w.outsider.address):
        c.transferOwnership(w.outsider.address, sender=w.outsider)
    with ape.reverts(c.OwnableInvalidOwner, owner=ZERO):
        c.transferOwnership(ZERO, sender=w.admin)
    c.transferOwnership(w.creator.address, sender=w.admin)
    with ape.reverts(c.OwnableUnauthorizedAccount, account=w.admin.address):
        c.transferOwnership(w.admin.address, sender=w.admin)
    assert c.owner() == w.creator.address


@pytest.mark.parametrize("which", ["coordinator", "router"])
@pytest.mark.covers("WorkflowCoordinator.renounceOwnership", "wrong_caller", "replay")
@pytest.mark.covers("RemoteStepRouter.renounceOwnership", "wrong_caller", "replay")
def test_renounce_ownership_is_owner_only_and_final(rr, which):
    c, w = _owned(rr, which), rr.w
    with ape.reverts(c.OwnableUnauthorizedAccount, account=w.outsider.address):
        c.renounceOwnership(sender=w.outsider)
    c.renounceOwnership(sender=w.admin)
    with ape.reverts(c.OwnableUnauthorizedAccount, account=w.admin.address):
        c.renounceOwnership(sender=w.admin)
    assert c.owner() == ZERO


# ---------------------------------------------------------------- deposits (remote)
def test_attacker_cannot_drain_other_creators_deposits(rr, project):
    """The old pool attack, performed: the attacker defines a remote step whose reward equals
    the victim's deposit and would execute it with its own agent. Its task waits Unfunded (its
    own deposit is empty) and the victim's deposit is untouched."""
    w = rr.w
    attacker, victim, mine = w.outsider, w.creator, 2  # operators[2] runs the attacker's agent
    pot = 7 * REWARD
    rr.remote.deposit(victim, value=pot, sender=victim)
    run = rr.start(reward=pot, creator=attacker)
    held = rr.held()
    tx = rr.deliver_task(rr.dispatch(run))
    rid = rr.rid(run)
    ev = tx.events.filter(rr.remote.TaskUnfunded)[0]
    assert (ev.requestId, ev.creator, ev.balance, ev.needed) == (rid, attacker.address, 0, pot)
    assert not tx.events.filter(rr.remote.TaskOpened)
    assert rr.remote.request(rid).creator == attacker.address
    rr.assert_ledger()
    with ape.reverts(rr.remote.RouterUnfunded, requestId=rid, creator=attacker.address,
                     balance=0, needed=pot):
        rr.remote.open(rid, sender=attacker)
    # nothing to claim: no remote run exists for the attacker's agent
    assert rr.remote.request(rid).remoteRunId == 0
    assert rr.rcoord.owed(w.operators[mine]) == 0
    assert (rr.remote.depositOf(victim), rr.remote.totalDeposits(), rr.held()) == (pot, pot, held)
    # the victim's own task still opens from its own deposit
    vrun = rr.start()
    rr.deliver_task(rr.dispatch(vrun))
    assert rr.remote.request(rr.rid(vrun)).state == Q_OPEN
    assert rr.remote.depositOf(victim) == pot - REWARD
    rr.assert_ledger()
    # paying for it with its own deposit gains the attacker nothing on the remote chain
    rr.remote.deposit(attacker, value=pot, sender=attacker)
    rr.remote.open(rid, sender=attacker)
    remote_run = int(rr.remote.request(rid).remoteRunId)
    rr.rcoord.claim(remote_run, 0, w.agents[mine], sender=w.operators[mine])
    rr.rcoord.submit(remote_run, 0, b"\x77" * 32, "ipfs://x", 0, sender=w.operators[mine])
    assert rr.rcoord.owed(w.operators[mine]) == pot  # exactly what the attacker deposited
    assert (rr.remote.depositOf(attacker), rr.remote.depositOf(victim)) == (0, pot - REWARD)
    rr.report(rid)
    rr.assert_ledger()


@pytest.mark.covers("RemoteStepRouter.deposit", "bad_arguments")
def test_deposit_rejects_zero_value_and_zero_creator(rr):
    w = rr.w
    with ape.reverts(rr.remote.RouterZeroAmount):
        rr.remote.deposit(w.creator, sender=w.creator)
    with ape.reverts(rr.remote.RouterInvalidCreator, creator=ZERO):
        rr.remote.deposit(ZERO, value=REWARD, sender=w.creator)
    assert rr.remote.totalDeposits() == 0


def test_anyone_may_top_up_a_deposit_that_only_its_creator_withdraws(rr):
    w = rr.w
    tx = rr.remote.deposit(w.creator, value=REWARD, sender=w.outsider)
    ev = tx.events.filter(rr.remote.Deposited)[0]
    assert (ev.creator, ev.payer, ev.amount, ev.balance) == (w.creator.address,
                                                             w.outsider.address, REWARD, REWARD)
    tx = rr.remote.deposit(w.creator, value=2 * REWARD, sender=w.creator)
    assert tx.events.filter(rr.remote.Deposited)[0].balance == 3 * REWARD
    assert (rr.remote.depositOf(w.creator), rr.remote.totalDeposits()) == (3 * REWARD, 3 * REWARD)
    rr.assert_ledger()
    before = w.outsider.balance
    tx = rr.remote.withdrawDeposit(2 * REWARD, w.outsider.address, sender=w.creator)
    ev = tx.events.filter(rr.remote.DepositWithdrawn)[0]
    assert (ev.creator, ev.to, ev.amount, ev.balance) == (w.creator.address, w.outsider.address,
                                                          2 * REWARD, REWARD)
    assert w.outsider.balance == before + 2 * REWARD
    assert (rr.remote.depositOf(w.creator), rr.remote.totalDeposits()) == (REWARD, REWARD)
    rr.assert_ledger()


@pytest.mark.covers("RemoteStepRouter.withdrawDeposit", "wrong_caller")
def test_withdraw_deposit_of_someone_else_reverts(rr):
    w = rr.w
    rr.remote.deposit(w.creator, value=REWARD, sender=w.creator)
    # the caller's own deposit is the only one it can touch: the stranger has none
    with ape.reverts(rr.remote.RouterInsufficientDeposit, creator=w.outsider.address, balance=0,
                     needed=REWARD):
        rr.remote.withdrawDeposit(REWARD, w.outsider.address, sender=w.outsider)
    assert rr.remote.depositOf(w.creator) == REWARD


@pytest.mark.covers("RemoteStepRouter.withdrawDeposit", "bad_arguments")
def test_withdraw_deposit_rejects_zero_too_much_and_zero_recipient(rr, project):
    w = rr.w
    rr.remote.deposit(w.creator, value=REWARD, sender=w.creator)
    with ape.reverts(rr.remote.RouterZeroAmount):
        rr.remote.withdrawDeposit(0, w.creator.address, sender=w.creator)
    with ape.reverts(rr.remote.RouterInsufficientDeposit, creator=w.creator.address,
                     balance=REWARD, needed=REWARD + 1):
        rr.remote.withdrawDeposit(REWARD + 1, w.creator.address, sender=w.creator)
    with ape.reverts(rr.remote.RouterInvalidRecipient, to=ZERO):
        rr.remote.withdrawDeposit(REWARD, ZERO, sender=w.creator)
    refuser = project.RejectingReceiverMock.deploy(sender=w.admin)
    with ape.reverts(rr.remote.RouterTransferFailed, to=refuser.address, amount=REWARD):
        rr.remote.withdrawDeposit(REWARD, refuser.address, sender=w.creator)
    assert rr.remote.depositOf(w.creator) == REWARD


@pytest.mark.covers("RemoteStepRouter.withdrawDeposit", "wrong_state")
def test_withdraw_deposit_reverts_for_what_an_open_task_took(rr):
    w = rr.w
    run = rr.start()
    rr.remote.deposit(w.creator, value=2 * REWARD, sender=w.creator)
    rr.deliver_task(rr.dispatch(run))  # opens: the reward is charged
    rr.assert_ledger()
    with ape.reverts(rr.remote.RouterInsufficientDeposit, creator=w.creator.address,
                     balance=REWARD, needed=2 * REWARD):
        rr.remote.withdrawDeposit(2 * REWARD, w.creator.address, sender=w.creator)


@pytest.mark.covers("RemoteStepRouter.withdrawDeposit", "replay")
def test_withdraw_deposit_twice_pays_once_and_a_reentrant_creator_gets_nothing_more(rr, project):
    w = rr.w
    rr.remote.deposit(w.creator, value=REWARD, sender=w.creator)
    rr.remote.withdrawDeposit(REWARD, w.creator.address, sender=w.creator)
    with ape.reverts(rr.remote.RouterInsufficientDeposit, creator=w.creator.address, balance=0,
                     needed=REWARD):
        rr.remote.withdrawDeposit(REWARD, w.creator.address, sender=w.creator)
    thief = project.MockReentrantDepositor.deploy(rr.remote.address, sender=w.admin)
    thief.depositSelf(value=2 * REWARD, sender=w.outsider)
    thief.arm(True, sender=w.outsider)
    thief.withdraw(REWARD, sender=w.outsider)
    assert thief.reentered()
    guard = "0x" + keccak(text="ReentrancyGuardReentrantCall()")[:4].hex()
    assert "0x" + bytes(thief.reentryError()).hex() == guard
    assert (thief.received(), rr.remote.depositOf(thief.address)) == (REWARD, REWARD)
    rr.assert_ledger()


@pytest.mark.covers("RemoteStepRouter.report", "wrong_state")
def test_report_reverts_while_the_step_is_claimed_before_the_deadline(rr):
    w = rr.w
    run = rr.start()
    rid, remote_run = rr.opened(run)
    rr.rcoord.claim(remote_run, 0, w.agents[1], sender=w.operators[1])
    with ape.reverts(rr.remote.RouterRunNotFinished, requestId=rid, runState=R_RUNNING,
                     escrow=REWARD):
        rr.remote.report(rid, *EMPTY, sender=w.outsider)
    rr.assert_ledger()


# ---------------------------------------------------------------- a v2 coordinator (remote)
V2_RESULT = ((0x77).to_bytes(32, "big"), "ipfs://v2")  # MockV2Coordinator's fixed result


@pytest.fixture
def v2(rr, project) -> tuple[Any, Any]:
    """A remote router in front of a coordinator whose cancel leaves a claimed step in flight."""
    w = rr.w
    coord = project.MockV2Coordinator.deploy(sender=w.admin)
    router = project.RemoteStepRouter.deploy(coord.address, rr.gateway.address, w.admin.address,
                                             sender=w.admin)
    router.setRemoteRouter(w.chain_id, rr.home.address, sender=w.admin)
    rr.home.setRemoteRouter(FAR, router.address, sender=w.admin)
    return router, coord


@pytest.mark.parametrize("done", [True, False])
def test_report_past_the_deadline_waits_for_a_step_in_flight_after_the_cancel(rr, v2, done):
    w = rr.w
    router, coord = v2
    run = rr.start()
    router.deposit(w.creator, value=REWARD, sender=w.creator)
    payload = rr.dispatch(run)
    rr.gateway.deliver(router.address, b"\x01" * 32, rr.home_id, payload, sender=w.outsider)
    rid = rr.rid(run)
    remote_run = int(router.request(rid).remoteRunId)
    coord.claimStep(remote_run, sender=w.outsider)
    rr.assert_ledger(router, coord)
    w.warp_to(int(router.request(rid).deadline))
    tx = router.report(rid, *EMPTY, sender=w.outsider)  # cancels; the claimed step keeps its escrow
    ev = tx.events.filter(router.RemoteRunStopped)[0]
    assert (ev.requestId, ev.remoteRunId, ev.escrow) == (rid, remote_run, REWARD)
    assert not tx.events.filter(router.ResultSent)
    assert router.request(rid).state == Q_OPEN and coord.runInfo(remote_run).state == R_CANCELLED
    rr.assert_ledger(router, coord)
    with ape.reverts(router.RouterRunNotFinished, requestId=rid, runState=R_CANCELLED,
                     escrow=REWARD):
        router.report(rid, *EMPTY, sender=w.outsider)
    coord.settle(remote_run, done, w.operators[1].address, sender=w.outsider)
    rr.assert_ledger(router, coord)
    # the mock's fixed result (its StepSubmitted would give it); ignored when not paid
    tx = router.report(rid, *(V2_RESULT if done else EMPTY), sender=w.outsider)
    assert tx.events.filter(router.ResultSent)[0].success == done
    assert bool(tx.events.filter(router.DepositRefunded)) == (not done)
    assert router.depositOf(w.creator) == (0 if done else REWARD)
    assert coord.owed(w.operators[1]) == (REWARD if done else 0)
    rr.assert_ledger(router, coord)
    if not done:
        router.withdrawDeposit(REWARD, w.creator.address, sender=w.creator)  # pulls the refund
        rr.assert_ledger(router, coord)
