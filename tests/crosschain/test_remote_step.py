"""A workflow on chaina whose middle step runs on chainb: the full suite deployed and linked on
both devnets (accord.deploy.suite + accord.deploy.links), agents driving claim/submit/respond with plain
web3 calls, and the real validator and relayer code stepped in-process both ways."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey
from web3.logs import DISCARD

from accord.chain.client import Client
from accord.chain.accounts import dev_account
from accord.chain.results import commitment, find_result
from accord.chain.types import RequestState, RunState, StepState
from accord.deploy.plan import run_plan
from accord.dev.devnet import Chain
from accord.deploy.links import GatewayEnd, link
from accord.crosschain.relayer import Relayer, RelayerConfig
from accord.settings import Settings, role_id
from accord.crosschain.attestation_store import SqliteStore
from accord.deploy.suite import plan
from accord.crosschain.attester import Attester, AttesterConfig

BOND = 10**16
REWARD = 10**15
LEASE = 600
NO_STEP = 255
VALIDATOR_KEYS = (5, 6, 7)
RESEARCH, EXECUTE, REPORT, VALIDATE = (role_id(n) for n in ("research", "execute", "report",
                                                             "validator"))
# StepState / RunState / RequestState numbering
READY, DONE, DISPATCHED = StepState.READY, StepState.DONE, StepState.DISPATCHED
R_COMPLETED = RunState.COMPLETED
Q_OPEN, Q_REPORTED = RequestState.OPEN, RequestState.REPORTED
EMPTY = (b"\x00" * 32, "")  # no input / no result


@dataclass
class End:
    """One chain's deployed suite and its agents (agent id per account address)."""

    client: Client
    addresses: dict[str, str]
    agents: dict[str, int]

    def c(self, key: str, name: str) -> Any:
        return self.client.contract(name, self.addresses[key])

    @property
    def coordinator(self) -> Any:
        return self.c("coordinator", "WorkflowCoordinator")

    @property
    def router(self) -> Any:
        return self.c("router", "RemoteStepRouter")

    def tx(self, fn: Any, who: LocalAccount, value: int = 0) -> Any:
        return self.client.transact(fn, who, value=value)

    def result(self, run: int, step: int) -> tuple[bytes, str]:
        """The current result of ``step`` (EMPTY before any), from its event: the coordinator
        keeps only its commitment."""
        found = find_result(self.client.w3, self.addresses["coordinator"], run, step)
        return EMPTY if found is None else (bytes(found.resultHash), str(found.resultURI))

    def events(self, key: str, name: str, event: str, receipt: Any) -> list[Any]:
        contract = self.c(key, name)
        return [e["args"] for e in getattr(contract.events, event)().process_receipt(
            receipt, errors=DISCARD)]


@dataclass
class World:
    a: End
    b: End
    admin: LocalAccount
    creator: LocalAccount
    agent: LocalAccount       # researcher + reporter on chaina, executor on chainb
    validators: list[LocalAccount]  # validator agents on chainb
    store: SqliteStore

    def pump(self, origin: End, dest: End) -> int:
        """Validators of ``origin`` attest everything sent so far; the relayer delivers it."""
        keys = [PrivateKey(dev_account(i).key) for i in VALIDATOR_KEYS[:2]]
        for key in keys:
            v = Attester(origin.client, self.store, key,
                          AttesterConfig(gateway=origin.addresses["gateway"], window=10,
                                          straggler_s=0.0))
            for _ in range(50):  # the session chains may be long: catch up range by range
                v.poll_once()
                cursor = self.store.cursor(v.name)
                if cursor is not None and cursor[0] >= origin.client.w3.eth.block_number:
                    break
        cfg = RelayerConfig(gateway=dest.addresses["gateway"],
                            origin_chain=origin.client.chain_id, threshold=2, batch_size=10,
                            recipient_gas=1_500_000)
        return Relayer(dest.client, self.store, dev_account(3), cfg).step()

    def dispatch(self, run: int, who: LocalAccount) -> Any:
        """Dispatch step 1 on chaina with its input: the result of step 0, its dependency."""
        return self.a.tx(self.a.coordinator.functions.dispatch(run, 1, *self.a.result(run, 0)),
                         who)

    def report(self, request_id: bytes, who: LocalAccount) -> Any:
        """Report a request on chainb with the remote step's result as its event gave it."""
        remote_run = self.b.router.functions.request(request_id).call()[7]
        return self.b.tx(self.b.router.functions.report(request_id,
                                                        *self.b.result(remote_run, 0)), who)

    def request_id(self, run: int, step: int, attempt: int) -> bytes:
        return bytes(self.b.router.functions.requestIdOf(
            self.a.client.chain_id, self.a.addresses["coordinator"], run, step, attempt).call())

    def run_remote(self, request_id: bytes, result: bytes, uri: str) -> int:
        """On chainb: the executor claims and submits the remote run, two validators approve."""
        req = self.b.router.functions.request(request_id).call()
        assert req[0] == Q_OPEN
        remote_run = req[7]
        coord, agent = self.b.coordinator, self.b.agents[self.agent.address]
        self.b.tx(coord.functions.claim(remote_run, 0, agent), self.agent)
        self.b.tx(coord.functions.submit(remote_run, 0, result, uri, 0), self.agent)
        for v in self.validators:
            self.b.tx(coord.functions.respond(remote_run, 0, self.b.agents[v.address], 95), v)
        assert coord.functions.runState(remote_run).call() == R_COMPLETED
        return int(remote_run)

    def warp_a(self, seconds: int) -> None:
        w3 = self.a.client.w3
        w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def _deploy(chain: Chain, admin: LocalAccount, tmp: Path, name: str) -> End:
    client = Client(chain.rpc_url)
    settings = Settings(roles={"research": BOND, "execute": BOND, "report": BOND,
                               "validator": BOND})
    run_plan(client, admin, plan(settings, name, admin.address), tmp / f"{name}.json",
             network=name)
    import json

    manifest = json.loads((tmp / f"{name}.json").read_text())
    addresses = {k: v["address"] for k, v in manifest["contracts"].items()}
    return End(client, addresses, {})


def _agent(end: End, who: LocalAccount, roles: list[bytes]) -> None:
    identity = end.c("identity", "IdentityRegistry")
    receipt = end.tx(identity.functions.register(), who)
    agent_id = int(end.events("identity", "IdentityRegistry", "Registered", receipt)[0]["agentId"])
    agent_roles = end.c("roles", "AgentRoles")
    for role in roles:
        end.tx(agent_roles.functions.bond(agent_id, role), who, value=BOND)
    end.tx(agent_roles.functions.heartbeat(agent_id), who)
    end.agents[who.address] = agent_id


@pytest.fixture
def world(chaina: Chain, chainb: Chain, tmp_path: Path) -> World:
    admin, creator, agent = dev_account(0), dev_account(1), dev_account(2)
    validators = [dev_account(4), dev_account(8)]
    a, b = _deploy(chaina, admin, tmp_path, "chaina"), _deploy(chainb, admin, tmp_path, "chainb")
    link([GatewayEnd(a.client, a.addresses["gateway"], admin, a.addresses["router"]),
          GatewayEnd(b.client, b.addresses["gateway"], admin, b.addresses["router"])],
         [dev_account(i).address for i in VALIDATOR_KEYS], 2)
    _agent(a, agent, [RESEARCH, REPORT])
    _agent(b, agent, [EXECUTE])
    for v in validators:
        _agent(b, v, [VALIDATE])
    # the run's creator pays its remote steps from its own deposit on chainb's router
    b.tx(b.router.functions.deposit(creator.address), creator, value=10 * REWARD)
    return World(a, b, admin, creator, agent, validators, SqliteStore(tmp_path / "relay.sqlite"))


def _step(role: bytes, chain_id: int, deps: int = 0, quorum: int = 0,
          attempts: int = 3) -> tuple[Any, ...]:
    return (role, deps, 0, LEASE, attempts, 10, 2, 100, quorum, REWARD, NO_STEP, False, chain_id)


def _start(w: World) -> int:
    """research@chaina -> execute@chainb (quorum 2) -> report@chaina."""
    ca, cb = w.a.client.chain_id, w.b.client.chain_id
    defn = (b"\x00" * 32, 0, 0, 0, [_step(RESEARCH, ca), _step(EXECUTE, cb, deps=1, quorum=2),
                              _step(REPORT, ca, deps=2)])
    coord = w.a.coordinator
    receipt = w.a.tx(coord.functions.registerDefinition(defn), w.creator)
    def_id = w.a.events("coordinator", "WorkflowCoordinator", "DefinitionRegistered",
                        receipt)[0]["definitionId"]
    receipt = w.a.tx(coord.functions.startRun(def_id, b"\x11" * 32, "ipfs://input"), w.creator,
                     value=3 * REWARD)
    run = int(w.a.events("coordinator", "WorkflowCoordinator", "RunStarted", receipt)[0]["runId"])
    me = w.a.agents[w.agent.address]
    w.a.tx(coord.functions.claim(run, 0, me), w.agent)
    w.a.tx(coord.functions.submit(run, 0, b"\x01" * 32, "ipfs://research", 0), w.agent)
    assert coord.functions.stepState(run, 1).call() == READY
    return run


def _finish_on_a(w: World, run: int) -> None:
    coord, me = w.a.coordinator, w.a.agents[w.agent.address]
    assert coord.functions.stepState(run, 2).call() == READY
    w.a.tx(coord.functions.claim(run, 2, me), w.agent)
    w.a.tx(coord.functions.submit(run, 2, b"\x03" * 32, "ipfs://report", 0), w.agent)
    assert coord.functions.runState(run).call() == R_COMPLETED


def test_middle_step_on_chainb_completes_the_run_on_chaina(world: World) -> None:
    w = world
    run = _start(w)
    coord = w.a.coordinator
    assert w.a.result(run, 0) == (b"\x01" * 32, "ipfs://research")  # step 1's input
    receipt = w.dispatch(run, w.agent)  # anyone may poke
    sent = w.a.events("router", "RemoteStepRouter", "TaskSent", receipt)[0]
    assert (sent["runId"], sent["step"], sent["chainId"], sent["attempt"]) == (
        run, 1, w.b.client.chain_id, 0)
    assert coord.functions.stepState(run, 1).call() == DISPATCHED

    assert w.pump(w.a, w.b) == 1
    rid = w.request_id(run, 1, 0)
    req = w.b.router.functions.request(rid).call()
    # opened from the run creator's own deposit on chainb
    assert req[11] == w.creator.address
    assert w.b.router.functions.depositOf(w.creator.address).call() == 9 * REWARD
    # the remote run's input is the result of the home step it depends on
    assert (req[9], req[10]) == (b"\x01" * 32, "ipfs://research")
    remote_run = w.run_remote(rid, b"\x02" * 32, "ipfs://executed")
    assert w.b.coordinator.functions.owed(w.agent.address).call() == REWARD

    assert w.b.result(remote_run, 0) == (b"\x02" * 32, "ipfs://executed")
    receipt = w.report(rid, w.validators[0])  # anyone may report
    assert w.b.events("router", "RemoteStepRouter", "ResultSent", receipt)[0]["success"]
    assert w.b.router.functions.request(rid).call()[0] == Q_REPORTED
    assert w.pump(w.b, w.a) == 1

    assert coord.functions.stepState(run, 1).call() == DONE
    assert bytes(coord.functions.resultCommitment(run, 1).call()) == commitment(
        b"\x02" * 32, "ipfs://executed")
    assert w.a.result(run, 1) == (b"\x02" * 32, "ipfs://executed")
    _finish_on_a(w, run)
    assert remote_run > 0
    _trace_shows_task_and_result_delivered(w, run)


def _trace_shows_task_and_result_delivered(w: World, run: int) -> None:
    """`accord message trace`: the run's task went out and its result came back."""
    from accord.crosschain.trace import ChainView, message_life, run_messages

    a = ChainView("chaina", w.a.client, w.a.addresses["gateway"], w.a.addresses["router"])
    b = ChainView("chainb", w.b.client, w.b.addresses["gateway"], w.b.addresses["router"])
    found = run_messages(run, a, [b])
    assert [label.split()[0] for label, _ in found] == ["task", "result"]
    lives = [message_life(mid, [a, b]) for _, mid in found]
    assert [(life.origin, life.destination, life.status) for life in lives] == [
        ("chaina", "chainb", "delivered"), ("chainb", "chaina", "delivered")]


def test_a_passed_deadline_redispatches_and_the_stale_result_is_ignored(world: World) -> None:
    w = world
    run = _start(w)
    coord = w.a.coordinator
    w.dispatch(run, w.agent)
    assert w.pump(w.a, w.b) == 1  # attempt 0 opens on chainb, but nobody works on it in time

    w.warp_a(8 * LEASE)  # REMOTE_DEADLINE_FACTOR x leaseSeconds
    w.a.tx(w.a.c("roles", "AgentRoles").functions.heartbeat(w.a.agents[w.agent.address]),
           w.agent)  # a live agent keeps its heartbeat up across the hours that passed
    assert coord.functions.stepState(run, 1).call() == READY  # derived: deadline passed
    receipt = w.a.tx(coord.functions.expireRemote(run, 1), w.validators[0])
    assert w.a.events("coordinator", "WorkflowCoordinator", "RemoteStepExpired",
                      receipt)[0]["attempt"] == 1
    receipt = w.dispatch(run, w.agent)
    assert w.a.events("coordinator", "WorkflowCoordinator", "StepDispatched",
                      receipt)[0]["attempt"] == 1
    assert w.pump(w.a, w.b) == 1

    # the late attempt 0 finishes too; its result reaches chaina and changes nothing
    stale = w.request_id(run, 1, 0)
    w.run_remote(stale, b"\xee" * 32, "ipfs://late")
    w.report(stale, w.agent)
    assert w.pump(w.b, w.a) == 1
    assert coord.functions.stepState(run, 1).call() == DISPATCHED

    fresh = w.request_id(run, 1, 1)
    w.run_remote(fresh, b"\x02" * 32, "ipfs://executed")
    w.report(fresh, w.agent)
    assert w.pump(w.b, w.a) == 1
    assert coord.functions.stepState(run, 1).call() == DONE
    assert bytes(coord.functions.resultCommitment(run, 1).call()) == commitment(
        b"\x02" * 32, "ipfs://executed")
    assert w.a.result(run, 1) == (b"\x02" * 32, "ipfs://executed")
    _finish_on_a(w, run)
    # both attempts ran and were paid, each from the creator's deposit
    assert w.b.router.functions.depositOf(w.creator.address).call() == 8 * REWARD
