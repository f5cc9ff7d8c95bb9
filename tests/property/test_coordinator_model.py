"""Model-based test: random operations against the WorkflowCoordinator and the Python
reference model (accord.model.workflow); every step state, derived attempt, run state and
balance is compared after each operation. A plain web3 client at ape's anvil for speed; each
example runs in an evm snapshot."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

from accord.model.workflow import Coordinator, Definition, ModelRevert, Step
from balances import assert_coordinator_solvent
from machines import OneChainMachine, plain_web3, run_machine

EXEC = keccak(text="accord.role.executor")
VALIDATOR = keccak(text="accord.role.validator")
R = 1000

SHAPES: list[Definition] = [
    # chain with a validated middle step and compensation for step 0
    Definition((Step(reward=R, compensation=3), Step(deps=1, quorum=1, reward=R, attempts=2),
                Step(deps=2, reward=R), Step(reward=R, attempts=1))),
    # decision diamond with a 1-of-2 merge
    Definition((Step(decision=True, reward=R), Step(deps=1, reward=R), Step(deps=1, reward=R),
                Step(deps=6, join=1, reward=R, quorum=2, attempts=2))),
    # fan-out of three, 2-of-3 join, one attempt each on the branches
    Definition((Step(reward=R), Step(deps=1, attempts=1, reward=R), Step(deps=1, reward=R),
                Step(deps=1, reward=R), Step(deps=14, join=2, reward=R))),
]


def _tuple(d: Definition, chain_id: int) -> tuple[Any, ...]:
    return (b"\x00" * 32, 0, 0, 0, [(EXEC, s.deps, s.join, s.lease, s.attempts, s.backoff_initial,
                               s.backoff_multiplier, s.backoff_cap, s.quorum, s.reward,
                               s.compensation, s.decision, chain_id) for s in d.steps])


@pytest.fixture(scope="module")
def env(project, accounts, chain):
    admin, creator = accounts[0], accounts[1]
    ops = [accounts[2], accounts[3]]
    vals = [accounts[4], accounts[5]]
    identity = project.MockIdentityRegistry.deploy(sender=admin)
    roles = project.MockAgentRoles.deploy(sender=admin)
    rep = project.MockReputationRegistry.deploy(sender=admin)
    val = project.MockValidationRegistry.deploy(identity.address, sender=admin)
    coord = project.WorkflowCoordinator.deploy(identity.address, roles.address, rep.address,
                                               val.address, VALIDATOR, admin.address,
                                               sender=admin)
    for i, a in enumerate(ops + vals, start=1):
        identity.register(sender=a)
        roles.setEligible(i, a.address, EXEC if i <= 2 else VALIDATOR, True, sender=admin)
    def_ids = []
    for d in SHAPES:
        tx = coord.registerDefinition(_tuple(d, chain.chain_id), sender=creator)
        def_ids.append(tx.events.filter(coord.DefinitionRegistered)[0].definitionId)
    w3 = plain_web3(chain)
    c = w3.eth.contract(address=coord.address, abi=[a.model_dump(by_alias=True, mode="json")
                                                     for a in coord.contract_type.abi])
    return {"w3": w3, "c": c, "creator": creator.address,
            "ops": [a.address for a in ops], "vals": [a.address for a in vals],
            "def_ids": def_ids}


class CoordinatorMachine(OneChainMachine):
    @initialize()
    def setup(self) -> None:
        self.begin()
        self.c = self.env["c"]
        self.model = Coordinator()
        self.run_ids: list[int] = []

    # -------------------------------------------------------------- plumbing
    def _both(self, model_op: Any, fn: Any, sender: str, value: int = 0) -> None:
        try:
            model_op(self.now + 1)
            expected = True
        except ModelRevert:
            expected = False
        assert self._send(fn, sender, value) == expected

    def _run(self, data: Any) -> int | None:
        return data.draw(st.sampled_from(self.run_ids)) if self.run_ids else None

    # -------------------------------------------------------------- rules
    @rule(shape=st.integers(0, len(SHAPES) - 1), extra=st.sampled_from([0, 7]))
    def start(self, shape: int, extra: int) -> None:
        d = SHAPES[shape]
        value = d.total_reward + extra
        run_id = len(self.run_ids) + 1 + self._base_run()
        ok = self._send(self.c.functions.startRun(self.env["def_ids"][shape], b"\x00" * 32, ""),
                        self.env["creator"], value)
        assert ok
        self.model.start(run_id, d, self.env["creator"], value)
        self.run_ids.append(run_id)

    def _base_run(self) -> int:
        if not hasattr(self, "_base"):
            self._base = 0
            while True:
                try:
                    if self.c.functions.runState(self._base + 1).call() == 0:
                        break
                except Exception:
                    break
                self._base += 1
        return self._base

    @rule(data=st.data(), step=st.integers(0, 4), who=st.integers(0, 1))
    def claim(self, data: Any, step: int, who: int) -> None:
        run = self._run(data)
        if run is None:
            return
        op = self.env["ops"][who]
        self._both(lambda t: self.model.claim(run, step, who + 1, op, True, t),
                   self.c.functions.claim(run, step, who + 1), op)

    @rule(data=st.data(), step=st.integers(0, 4), who=st.integers(0, 1))
    def heartbeat(self, data: Any, step: int, who: int) -> None:
        run = self._run(data)
        if run is None:
            return
        op = self.env["ops"][who]
        self._both(lambda t: self.model.heartbeat(run, step, op, t),
                   self.c.functions.heartbeatLease(run, step), op)

    @rule(data=st.data(), step=st.integers(0, 4), who=st.integers(0, 1),
          branches=st.sampled_from([0, 2, 4, 6]))
    def submit(self, data: Any, step: int, who: int, branches: int) -> None:
        run = self._run(data)
        if run is None:
            return
        op = self.env["ops"][who]
        self._both(lambda t: self.model.submit(run, step, op, branches, t),
                   self.c.functions.submit(run, step, b"\x01" * 32, "u", branches), op)

    @rule(data=st.data(), step=st.integers(0, 4), v=st.integers(0, 2),
          response=st.sampled_from([0, 49, 50, 100]))
    def respond(self, data: Any, step: int, v: int, response: int) -> None:
        run = self._run(data)
        if run is None:
            return
        # v == 2: executor agent 1 posing as a validator (ineligible for the role)
        agent, sender = (3 + v, self.env["vals"][v]) if v < 2 else (1, self.env["ops"][0])
        self._both(lambda t: self.model.respond(run, step, agent, v < 2, response, t),
                   self.c.functions.respond(run, step, agent, response), sender)

    @rule(data=st.data(), step=st.integers(0, 4))
    def expire(self, data: Any, step: int) -> None:
        run = self._run(data)
        if run is None:
            return
        self._both(lambda t: self.model.expire(run, step, t),
                   self.c.functions.expireLease(run, step), self.env["vals"][0])

    @rule(data=st.data(), action=st.sampled_from(["pause", "resume", "cancel"]))
    def control(self, data: Any, action: str) -> None:
        run = self._run(data)
        if run is None:
            return
        model_fn = getattr(self.model, action)
        fn = {"pause": self.c.functions.pauseRun, "resume": self.c.functions.resumeRun,
              "cancel": self.c.functions.cancelRun}[action]
        self._both(lambda t: model_fn(run, self.env["creator"]), fn(run), self.env["creator"])

    @rule(who=st.sampled_from(["creator", "op0", "op1"]))
    def withdraw(self, who: str) -> None:
        addr = self.env["creator"] if who == "creator" else self.env["ops"][int(who[-1])]
        self._both(lambda t: self.model.withdraw(addr), self.c.functions.withdraw(), addr)

    @rule(dt=st.sampled_from([5, 60, 99, 100, 250]))
    def time_passes(self, dt: int) -> None:
        self._advance(dt)

    # -------------------------------------------------------------- comparison
    @invariant()
    def matches_model(self) -> None:
        if not hasattr(self, "model"):
            return
        c = self.c.functions
        assert int(self.w3.eth.get_block("latest")["timestamp"]) == self.now
        for run in self.run_ids:
            m = self.model.runs[run]
            assert c.runState(run).call() == m.state
            info = c.runInfo(run).call()
            assert (info[3], info[4], info[5]) == (m.escrow, m.done, m.skipped)
            for i in range(m.definition.n):
                assert c.stepState(run, i).call() == self.model.state(run, i, self.now), (run, i)
                assert c.lease(run, i).call()[3] == self.model.derived_attempt(run, i, self.now)
        for addr in [self.env["creator"], *self.env["ops"]]:
            assert c.owed(addr).call() == self.model.owed.get(addr, 0)
        assert c.totalEscrowed().call() == self.model.escrowed
        assert c.totalOwed().call() == sum(self.model.owed.values())
        assert_coordinator_solvent(self.w3, self.c)  # balance == totalOwed + totalEscrowed


def test_coordinator_matches_reference_model(env) -> None:
    run_machine(CoordinatorMachine, 200, 12, env=env)


@pytest.mark.slow
def test_coordinator_matches_reference_model_long(env) -> None:
    run_machine(CoordinatorMachine, 2000, 30, env=env)
