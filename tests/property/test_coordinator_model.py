"""Model-based test: random operations against the WorkflowCoordinator (and the MockAgentRoles
it locks stakes in) and the Python reference model (accord.model.workflow). Every revert is
compared by its custom error name; after each operation every step state, derived attempt,
lease, tally, run state, mask, escrow, credit, stake lock and slash is compared, and the value
invariant (balance == totalOwed + totalEscrowed) checked.

For speed the machine speaks raw JSON-RPC to ape's anvil: transactions are pre-encoded, and
the whole comparison is one HTTP batch (one coordinator `multicall` for its views, plus the
balance, the clock and the AgentRoles reads). Each example runs in an evm snapshot."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import requests
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import function_abi_to_4byte_selector, keccak
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

from accord.agents.ballots import Vote, sign_vote
from accord.testing.model.workflow import (RELEASED, Coordinator, Definition, ModelRevert, Roles,
                                   Step, StepState, ValidationTimeout)
from machines import OneChainMachine, run_machine

EXEC = keccak(text="accord.role.executor")
VALIDATOR = keccak(text="accord.role.validator")
R = 1000
RETRY, ACCEPT, FAIL = ValidationTimeout.RETRY, ValidationTimeout.ACCEPT, ValidationTimeout.FAIL


def _s(**kw: Any) -> Step:
    return Step(role=EXEC, **kw)


SHAPES: list[Definition] = [
    # chain with a validated middle step and compensation for step 0; stake, default window
    Definition((_s(reward=R, compensation=3), _s(deps=1, quorum=1, reward=R, attempts=2),
                _s(deps=2, reward=R), _s(reward=R, attempts=1)), slash=5),
    # decision diamond with a validated 1-of-2 merge; undecided validations are accepted
    Definition((_s(decision=True, reward=R), _s(deps=1, reward=R), _s(deps=1, reward=R),
                _s(deps=6, join=1, reward=R, quorum=2, attempts=2)),
               validation_seconds=60, on_timeout=ACCEPT),
    # fan-out of three, 2-of-3 join, one attempt on a validated branch; timeouts fail
    Definition((_s(reward=R), _s(deps=1, attempts=1, reward=R, quorum=1), _s(deps=1, reward=R),
                _s(deps=1, reward=R), _s(deps=14, join=2, reward=R)),
               slash=3, on_timeout=FAIL),
    # validated steps with a validated compensation, stake 7, short window, timeouts fail
    Definition((_s(reward=R, quorum=1, attempts=2, compensation=2),
                _s(deps=1, reward=R, quorum=2, attempts=1), _s(reward=R, quorum=1)),
               slash=7, validation_seconds=30, on_timeout=FAIL),
    # two validated steps, very short window, timeouts retry at once
    Definition((_s(reward=R, quorum=1, attempts=3, lease=60),
                _s(deps=1, reward=R, quorum=1, attempts=2)),
               slash=4, validation_seconds=20, on_timeout=RETRY),
]

# (agentId, owner index) registered in this order after the coordinator's own identity (0);
# owners: 0, 1 = executor operators, 2, 3 = validator operators
IDENTITIES = [(1, 0), (2, 1), (3, 2), (4, 3), (5, 0), (6, 2)]
# (agentId, operator index, role) the mock makes eligible
ELIGIBLE = [(1, 0, EXEC), (2, 1, EXEC), (1, 3, EXEC), (3, 2, VALIDATOR), (4, 3, VALIDATOR),
            (4, 1, VALIDATOR), (5, 0, VALIDATOR), (6, 2, VALIDATOR)]
BONDS = [(2, EXEC, 10), (4, VALIDATOR, 8)]  # bond caps (locks beyond them are refused)
CLAIMERS = [(1, 0), (2, 1), (1, 3)]  # (agentId, operator index)
# validators: independent ones; a second identity of validator owner 2 (one vote per owner);
# an identity owned by executor operator 0; validator 4 through executor operator 1; and
# executor 1 posing as a validator (not independent of itself, not eligible otherwise)
VOTERS = [(3, 2), (4, 3), (6, 2), (5, 0), (4, 1), (1, 0)]
OUTCOMES: Counter[tuple[str, str]] = Counter()  # (operation, revert or "ok"): what was reached
LOCK_KEYS = [(a, r) for a in range(1, 7) for r in (EXEC, VALIDATOR)]


def _definition_tuple(d: Definition, chain_id: int) -> tuple[Any, ...]:
    return (d.validator_role, d.slash, d.validation_seconds, int(d.on_timeout),
            [(s.role, s.deps, s.join, s.lease, s.attempts, s.backoff_initial,
              s.backoff_multiplier, s.backoff_cap, s.quorum, s.reward, s.compensation,
              s.decision, chain_id) for s in d.steps])


def _call(sig: str, *args: Any) -> bytes:
    types = sig[sig.index("(") + 1:-1]
    return keccak(text=sig)[:4] + encode([t for t in types.split(",") if t], list(args))


SELECTORS = {keccak(text=sig)[:4]: sig[:sig.index("(")] for sig in [
    "claim(uint256,uint8,uint256)", "heartbeatLease(uint256,uint8)",
    "submit(uint256,uint8,bytes32,string,uint64)", "respond(uint256,uint8,uint256,uint8)",
    "expireLease(uint256,uint8)", "expireValidation(uint256,uint8)",
    "releaseVoteStake(uint256,uint8,uint8,address)", "pauseRun(uint256)", "resumeRun(uint256)",
    "cancelRun(uint256)", "withdraw()",
    "respondSigned(uint256,uint8,(uint256,uint8,address,bytes)[])"]}


def _errors(*abis: Any) -> dict[str, str]:
    out = {}
    for abi in abis:
        for a in abi:
            if a["type"] == "error":
                out["0x" + function_abi_to_4byte_selector(a).hex()] = a["name"]
    return out


@pytest.fixture(scope="module")
def env(project, accounts, chain):
    admin, creator = accounts[0], accounts[1]
    people = [accounts[2], accounts[3], accounts[4], accounts[5]]
    identity = project.MockIdentityRegistry.deploy(sender=admin)
    roles = project.MockAgentRoles.deploy(sender=admin)
    roles.setIdentity(identity.address, sender=admin)
    rep = project.MockReputationRegistry.deploy(sender=admin)
    val = project.MockValidationRegistry.deploy(identity.address, sender=admin)
    coord = project.WorkflowCoordinator.deploy(identity.address, roles.address, rep.address,
                                               val.address, VALIDATOR, admin.address,
                                               sender=admin)
    for agent, owner in IDENTITIES:
        identity.register(sender=people[owner])
        assert identity.ownerOf(agent) == people[owner].address
    for agent, op, role in ELIGIBLE:
        roles.setEligible(agent, people[op].address, role, True, sender=admin)
    for agent, role, cap in BONDS:
        roles.setBond(agent, role, cap, sender=admin)
    def_ids = []
    for d in SHAPES:
        tx = coord.registerDefinition(_definition_tuple(d, chain.chain_id), sender=creator)
        def_ids.append(tx.events.filter(coord.DefinitionRegistered)[0].definitionId)
    abi = [a.model_dump(by_alias=True, mode="json") for a in coord.contract_type.abi]
    roles_abi = [a.model_dump(by_alias=True, mode="json") for a in roles.contract_type.abi]
    ident_abi = [a.model_dump(by_alias=True, mode="json") for a in identity.contract_type.abi]
    session = requests.Session()
    return {"uri": chain.provider.uri, "session": session, "coord": coord.address,
            "roles": roles.address, "creator": creator.address,
            "people": [a.address for a in people], "def_ids": def_ids,
            "keys": [Account.from_key(a.private_key) for a in people],
            "chain_id": int(chain.chain_id),
            "errors": _errors(abi, roles_abi, ident_abi)}


class CoordinatorMachine(OneChainMachine):
    @initialize(shape=st.integers(0, len(SHAPES) - 1), extra=st.sampled_from([0, 7]))
    def setup(self, shape: int, extra: int) -> None:
        self.uri, self.session = self.env["uri"], self.env["session"]
        self.snapshot = self._rpc("evm_snapshot", [])
        self.now = int(self._rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        self.people: list[str] = self.env["people"]
        roles = Roles()
        roles.eligible = {(a, self.people[op], r) for a, op, r in ELIGIBLE}
        roles.caps = {(a, r): cap for a, r, cap in BONDS}
        owners = {a: self.people[o] for a, o in IDENTITIES}
        self.model = Coordinator(roles=roles, owners=owners, validator_role=VALIDATOR)
        self.run_ids: list[int] = []
        self.base = self._first_free_run()
        self.slashes_seen = 0
        self._start(shape, extra)  # every example has a run from its first rule on

    def teardown(self) -> None:
        if hasattr(self, "snapshot"):
            self._rpc("evm_revert", [self.snapshot])

    # -------------------------------------------------------------- json-rpc
    def _post(self, payload: Any) -> Any:
        return self.session.post(self.uri, json=payload, timeout=60).json()

    def _rpc(self, method: str, params: list[Any]) -> Any:
        out = self._post({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        if "error" in out:
            raise RuntimeError(out["error"])
        return out["result"]

    def _eth_call(self, to: str, data: bytes, block: str = "latest") -> dict[str, Any]:
        return {"jsonrpc": "2.0", "method": "eth_call",
                "params": [{"to": to, "data": "0x" + data.hex()}, block]}

    def _view(self, data: bytes) -> Any:
        return self._rpc("eth_call", [{"to": self.env["coord"], "data": "0x" + data.hex()},
                                      "latest"])

    def _first_free_run(self) -> int:
        base = 0
        while decode(["uint8"], bytes.fromhex(self._view(
                _call("runState(uint256)", base + 1))[2:]))[0] != 0:
            base += 1
        return base

    def _transact(self, data: bytes, sender: str, value: int = 0) -> str | None:
        """Mines ``data`` to the coordinator at the next second; None when it succeeded,
        else the custom error name it reverted with (replayed with eth_call on its block)."""
        self.now += 1
        self._rpc("evm_setNextBlockTimestamp", [self.now])
        tx = {"from": sender, "to": self.env["coord"], "data": "0x" + data.hex(),
              "gas": hex(self.GAS), "value": hex(value)}
        tx_hash = self._rpc("eth_sendTransaction", [tx])
        receipt = None
        while receipt is None:  # anvil mines right after it answers: seldom more than one poll
            receipt = self._rpc("eth_getTransactionReceipt", [tx_hash])
        if int(receipt["status"], 16) == 1:
            return None
        out = self._post({"jsonrpc": "2.0", "id": 1, "method": "eth_call",
                          "params": [tx, receipt["blockNumber"]]})
        err = out.get("error", {})
        data_hex = err.get("data", "") if isinstance(err, dict) else ""
        if isinstance(data_hex, dict):
            data_hex = data_hex.get("data", "")
        return self.env["errors"].get(str(data_hex)[:10], f"unknown revert {err!r}")

    def _both(self, model_op: Any, data: bytes, sender: str, value: int = 0) -> None:
        before, traced = len(self.model.roles.slashes), len(self.model.trace)
        try:
            model_op(self.now + 1)
            expected = None
        except ModelRevert as e:
            expected = e.name
        assert self._transact(data, sender, value) == expected
        op = model_op.__name__ if model_op.__name__ != "<lambda>" else data[:4].hex()
        OUTCOMES[(SELECTORS.get(data[:4], op), expected or "ok")] += 1
        if len(self.model.roles.slashes) > before:
            OUTCOMES[(SELECTORS.get(data[:4], op), "slashed")] += 1
        for name in self.model.trace[traced:]:
            OUTCOMES[(SELECTORS.get(data[:4], op), name)] += 1

    def _pick(self, data: Any, *wanted: StepState, stored: tuple[str, ...] = ()) -> tuple[int, int]:
        """Mostly (3 in 4) a step the model shows in one of the ``wanted`` states at the next
        block (and, if given, with a ``stored`` status); otherwise any run and any step index
        0..4 (some out of range)."""
        t = self.now + 1
        candidates = [(r, i) for r in self.run_ids for i in range(self.model.runs[r].definition.n)
                      if self.model.state(r, i, t) in wanted
                      and (not stored or self.model.runs[r].steps[i].status in stored)]
        if candidates and data.draw(st.integers(0, 3), label="untargeted") != 3:
            return data.draw(st.sampled_from(candidates), label="run, step")
        return (data.draw(st.sampled_from(self.run_ids), label="run"),
                data.draw(st.integers(0, 4), label="step"))

    def _holder(self, data: Any, run: int, step: int) -> int:
        """Mostly the claimer holding the lease of (run, step), else any claimer."""
        op = self.model.runs[run].steps[step].operator if step < self.model.runs[run].definition.n else ""
        holders = [k for k, (_, o) in enumerate(CLAIMERS) if self.people[o] == op]
        if holders and data.draw(st.integers(0, 3), label="other claimer") != 3:
            return holders[0]
        return data.draw(st.integers(0, len(CLAIMERS) - 1), label="claimer")

    def _start(self, shape: int, extra: int) -> None:
        d = SHAPES[shape]
        value = d.total_reward + extra
        run_id = len(self.run_ids) + 1 + self.base
        data = _call("startRun(bytes32,bytes32,string)", self.env["def_ids"][shape],
                     b"\x00" * 32, "")
        assert self._transact(data, self.env["creator"], value) is None
        self.model.start(run_id, d, self.env["creator"], value)
        self.run_ids.append(run_id)

    # -------------------------------------------------------------- rules
    @rule(shape=st.integers(0, len(SHAPES) - 1), extra=st.sampled_from([0, 7]))
    def start(self, shape: int, extra: int) -> None:
        self._start(shape, extra)

    def _claim(self, run: int, step: int, who: int) -> None:
        agent, op = CLAIMERS[who][0], self.people[CLAIMERS[who][1]]
        self._both(lambda t: self.model.claim(run, step, agent, op, t),
                   _call("claim(uint256,uint8,uint256)", run, step, agent), op)

    def _submit(self, run: int, step: int, who: int, branches: int) -> None:
        op = self.people[CLAIMERS[who][1]]
        self._both(lambda t: self.model.submit(run, step, op, branches, t),
                   _call("submit(uint256,uint8,bytes32,string,uint64)", run, step,
                         b"\x01" * 32, "u", branches), op)

    def _respond(self, run: int, step: int, v: int, response: int) -> None:
        agent, sender = VOTERS[v][0], self.people[VOTERS[v][1]]
        self._both(lambda t: self.model.respond(run, step, agent, sender, response, t),
                   _call("respond(uint256,uint8,uint256,uint8)", run, step, agent, response),
                   sender)

    def _respond_signed(self, run: int, step: int, voters: list[int], responses: list[int]
                        ) -> None:
        """One batch of signed votes (signed for the attempt the model shows), sent by the
        run's creator: anyone may carry them."""
        r = self.model.runs.get(run)
        attempt = r.steps[step].attempt if r is not None and step < r.definition.n else 0
        ballots = [(VOTERS[v][0], self.people[VOTERS[v][1]], resp)
                   for v, resp in zip(voters, responses)]
        signed = [sign_vote(self.env["keys"][VOTERS[v][1]], self.env["chain_id"],
                            self.env["coord"], Vote(run, step, attempt, agent, resp))
                  for v, (agent, _, resp) in zip(voters, ballots)]
        sig = "respondSigned(uint256,uint8,(uint256,uint8,address,bytes)[])"
        data = keccak(text=sig)[:4] + encode(
            ["uint256", "uint8", "(uint256,uint8,address,bytes)[]"], [run, step, signed])
        self._both(lambda t: self.model.respond_signed(run, step, ballots, t), data,
                   self.env["creator"])

    def _judge_signed(self, data: Any) -> None:
        """1..3 judges' signed votes in one transaction (repeats and owners that voted
        before included)."""
        run, step = self._pick(data, StepState.SUBMITTED)
        n = data.draw(st.integers(1, 3), label="votes")
        voters = [data.draw(st.integers(0, len(VOTERS) - 1), label="v") for _ in range(n)]
        responses = [data.draw(st.sampled_from([100, 0, 60, 101]), label="response")
                     for _ in range(n)]
        self._respond_signed(run, step, voters, responses)

    def _expire(self, run: int, step: int) -> None:
        self._both(lambda t: self.model.expire(run, step, t),
                   _call("expireLease(uint256,uint8)", run, step), self.people[2])

    @rule(data=st.data(), kind=st.sampled_from(
        ["progress", "progress", "progress", "claim_any", "work", "judge", "expire_any",
         "release_vote", "progress", "progress", "judge_signed"]))
    def act(self, data: Any, kind: str) -> None:
        """A step operation; the natural next call (``progress``) weighs half, so that
        examples of 12 operations reach votes, timeouts and cancels in flight."""
        getattr(self, "_" + kind)(data)

    def _progress(self, data: Any) -> None:
        """A burst of 1..4 natural next calls, each compared with the model: claim a Ready
        step, submit a Claimed one (the holder; a decision picks valid branches), vote on a
        Submitted one (expire it past its deadline), expire a lapsed or moot claim."""
        for k in range(data.draw(st.integers(1, 4), label="burst")):
            if k:
                self.matches_model()
            self._progress_once(data)

    def _progress_once(self, data: Any) -> None:
        run, step = self._pick(data, StepState.READY, StepState.CLAIMED, StepState.SUBMITTED,
                               StepState.CANCELLED)
        r = self.model.runs[run]
        s = self.model.state(run, step, self.now + 1) if step < r.definition.n else None
        if s == StepState.READY and r.steps[step].status != "claimed" or s is None:
            self._claim(run, step, data.draw(st.integers(0, len(CLAIMERS) - 1), label="who"))
        elif s == StepState.CLAIMED:
            decision = r.definition.steps[step].decision
            self._submit(run, step, self._holder(data, run, step),
                         data.draw(st.sampled_from([6, 2, 4]), label="branches") if decision
                         else 0)
        elif s == StepState.SUBMITTED and self.now + 1 >= r.steps[step].lease_end:
            self._expire_validation(run, step)
        elif s == StepState.SUBMITTED and data.draw(st.booleans(), label="signed"):
            self._respond_signed(run, step, [0, 1], [data.draw(st.sampled_from([100, 0, 60]),
                                                               label="response")] * 2)
        elif s == StepState.SUBMITTED:
            self._respond(run, step, data.draw(st.integers(0, len(VOTERS) - 1), label="v"),
                          data.draw(st.sampled_from([100, 0, 60]), label="response"))
        else:
            self._expire(run, step)

    def _claim_any(self, data: Any) -> None:
        run, step = self._pick(data, StepState.READY)
        self._claim(run, step, data.draw(st.integers(0, len(CLAIMERS) - 1), label="who"))

    def _work(self, data: Any) -> None:
        """The lease holder (mostly) submits, or (1 in 4) heartbeats."""
        heartbeat = data.draw(st.integers(0, 3), label="heartbeat")
        branches = data.draw(st.sampled_from([0, 2, 4, 6]), label="branches")
        run, step = self._pick(data, StepState.CLAIMED)
        who = self._holder(data, run, step)
        if heartbeat != 3:
            self._submit(run, step, who, branches)
            return
        op = self.people[CLAIMERS[who][1]]
        self._both(lambda t: self.model.heartbeat(run, step, op, t),
                   _call("heartbeatLease(uint256,uint8)", run, step), op)

    def _judge(self, data: Any) -> None:
        """A validator votes, or (response -1) anyone calls expireValidation."""
        v = data.draw(st.integers(0, len(VOTERS) - 1), label="v")
        response = data.draw(st.sampled_from([0, 49, 50, 100, 101, -1]), label="response")
        run, step = self._pick(data, StepState.SUBMITTED)
        if response >= 0:
            self._respond(run, step, v, response)
        else:
            self._expire_validation(run, step)

    def _expire_validation(self, run: int, step: int) -> None:
        self._both(lambda t: self.model.expire_validation(run, step, t),
                   _call("expireValidation(uint256,uint8)", run, step), self.people[3])

    def _expire_any(self, data: Any) -> None:
        run, step = self._pick(data, StepState.READY, StepState.FAILED, StepState.CANCELLED,
                               stored=("claimed", "submitted"))
        self._expire(run, step)

    def _release_vote(self, data: Any) -> None:
        votes = [(r, i, attempt, owner) for r in self.run_ids
                 for (i, attempt, owner), agent in self.model.runs[r].votes.items()
                 if agent != RELEASED]
        if votes and data.draw(st.integers(0, 3), label="untargeted") != 3:
            run, step, attempt, who = data.draw(st.sampled_from(votes), label="vote")
        else:
            run = data.draw(st.sampled_from(self.run_ids), label="run")
            step = data.draw(st.integers(0, 4), label="step")
            attempt = data.draw(st.integers(0, 2), label="attempt")
            who = self.people[data.draw(st.sampled_from([2, 3, 0]), label="owner")]
        self._both(lambda t: self.model.release_vote(run, step, attempt, who, t),
                   _call("releaseVoteStake(uint256,uint8,uint8,address)", run, step, attempt,
                         who), self.people[1])

    @rule(data=st.data(), action=st.sampled_from(["pause", "resume", "cancel", "withdraw"]))
    def control(self, data: Any, action: str) -> None:
        """The creator pauses, resumes or cancels a run, or someone withdraws."""
        if action == "withdraw":
            self._withdraw(data.draw(st.sampled_from([-1, 0, 1, 3]), label="who"))
            return
        run = data.draw(st.sampled_from(self.run_ids), label="run")
        creator = self.env["creator"]
        model_op = {"pause": lambda t: self.model.pause(run, creator),
                    "resume": lambda t: self.model.resume(run, creator),
                    "cancel": lambda t: self.model.cancel(run, creator, t)}[action]
        self._both(model_op, _call(f"{action}Run(uint256)", run), creator)
        if action == "cancel" and self.model.runs[run].inflight:
            OUTCOMES[("cancelRun", "left steps in flight")] += 1

    def _withdraw(self, who: int) -> None:
        addr = self.env["creator"] if who < 0 else self.people[who]
        self._both(lambda t: self.model.withdraw(addr), _call("withdraw()"), addr)

    @rule(dt=st.sampled_from([5, 20, 60, 99, 100, 250]))
    def time_passes(self, dt: int) -> None:
        self.now += dt
        self._rpc("evm_mine", [self.now])

    # -------------------------------------------------------------- comparison
    @invariant()
    def matches_model(self) -> None:
        if not hasattr(self, "model"):
            return
        m, now = self.model, self.now
        coord, roles = self.env["coord"], self.env["roles"]
        owed_addrs = [self.env["creator"], *self.people]
        calls: list[tuple[bytes, list[str]]] = [
            (_call("totalOwed()"), ["uint256"]), (_call("totalEscrowed()"), ["uint256"])]
        calls += [(_call("owed(address)", a), ["uint256"]) for a in owed_addrs]
        for run in self.run_ids:
            calls.append((_call("runInfo(uint256)", run),
                          ["bytes32", "address", "uint8", "uint256"] + ["uint64"] * 4))
            calls.append((_call("inflight(uint256)", run), ["uint64"]))
            for i in range(m.runs[run].definition.n):
                calls.append((_call("stepState(uint256,uint8)", run, i), ["uint8"]))
                calls.append((_call("lease(uint256,uint8)", run, i),
                              ["uint256", "address", "uint64", "uint8"]))
                calls.append((_call("tallies(uint256,uint8)", run, i), ["uint8", "uint8"]))
        batch = [self._eth_call(coord, _call("multicall(bytes[])", [c for c, _ in calls])),
                 {"jsonrpc": "2.0", "method": "eth_getBalance", "params": [coord, "latest"]},
                 {"jsonrpc": "2.0", "method": "eth_getBlockByNumber",
                  "params": ["latest", False]},
                 self._eth_call(roles, _call("slashCount()"))]
        batch += [self._eth_call(roles, _call("lockedOf(uint256,bytes32)", a, r))
                  for a, r in LOCK_KEYS]
        for k, req in enumerate(batch):
            req["id"] = k
        out = sorted(self._post(batch), key=lambda r: r["id"])
        (results,) = decode(["bytes[]"], bytes.fromhex(out[0]["result"][2:]))
        values = iter([decode(types, raw) for raw, (_, types) in zip(results, calls)])
        balance = int(out[1]["result"], 16)
        assert int(out[2]["result"]["timestamp"], 16) == now

        total_owed, total_escrowed = next(values)[0], next(values)[0]
        for a in owed_addrs:
            assert next(values)[0] == m.owed.get(a, 0), ("owed", a)
        assert total_escrowed == m.escrowed
        assert total_owed == sum(m.owed.values())
        assert balance == total_owed + total_escrowed  # the value invariant
        for run in self.run_ids:
            r = m.runs[run]
            info = next(values)
            assert (info[2], info[3], info[4], info[5], info[6], info[7]) == (
                r.state, r.escrow, r.done, r.skipped, r.comp_pending, r.comp_open), run
            assert next(values)[0] == r.inflight, ("inflight", run)
            for i in range(r.definition.n):
                sr = r.steps[i]
                assert next(values)[0] == m.state(run, i, now), ("state", run, i)
                agent, operator, lease_end, attempt = next(values)
                assert attempt == m.derived_attempt(run, i, now), ("attempt", run, i)
                # the lease's end while one runs (or its validation deadline), else 0
                shown = sr.lease_end if sr.status in ("claimed", "abandoned", "submitted") else 0
                assert (agent, lease_end) == (sr.agent, shown), ("lease", run, i)
                assert operator.lower() == (sr.operator or "0x" + "00" * 20).lower()
                tallies = (sr.approvals, sr.rejections) if sr.status == "submitted" else (0, 0)
                assert next(values) == tallies, ("tallies", run, i)
        slashes = decode(["uint256"], bytes.fromhex(out[3]["result"][2:]))[0]
        assert slashes == len(m.roles.slashes), "slashes"
        for (a, r), reply in zip(LOCK_KEYS, out[4:]):
            locked = decode(["uint256"], bytes.fromhex(reply["result"][2:]))[0]
            assert locked == m.roles.locked.get((a, r), 0), ("locked", a, r)
        if slashes != self.slashes_seen:  # the latest slash: whom, which role, how much, why
            self.slashes_seen = slashes
            got = decode(["(uint256,bytes32,uint256,bytes32,address)"], bytes.fromhex(
                self._rpc("eth_call", [{"to": roles, "data": "0x" + _call(
                    "slashAt(uint256)", slashes - 1).hex()}, "latest"])[2:]))[0]
            assert got[:4] == m.roles.slashes[-1]


def _report() -> None:
    for (op, outcome), n in sorted(OUTCOMES.items()):
        print(f"{op:>18} {outcome:<40} {n}")


def test_coordinator_matches_reference_model(env) -> None:
    OUTCOMES.clear()
    run_machine(CoordinatorMachine, 120, 12, env=env)
    _report()


@pytest.mark.slow
def test_coordinator_matches_reference_model_long(env) -> None:
    OUTCOMES.clear()
    run_machine(CoordinatorMachine, 2000, 30, env=env)
    _report()
