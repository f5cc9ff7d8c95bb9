"""The agent runtime on a real anvil: races, crashes with lapsed leases, rejections."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

from agent_helpers import Suite, drive

from accord.agents.handlers import StepInput, ValidationInput, Verdict

COMPLETED = 3


def _fanout(n: int, role: str = "execute", **step: object) -> str:
    extra = "".join(f"\n    {k}: {v}" for k, v in step.items())
    return "steps:\n" + "".join(
        f"  - name: s{i}\n    role: {role}\n    reward: 1000{extra}\n" for i in range(n))


def test_racing_agents_do_each_step_exactly_once(suite: Suite) -> None:
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def work(inp: StepInput) -> bytes:
        with lock:
            calls[inp.name] += 1
        return f"{inp.name}:{inp.input.decode()}".encode()

    hosts = [suite.host([suite.agent(f"h{h}a{a}", {"execute": work}) for a in range(2)])
             for h in range(3)]
    run_id = suite.start(_fanout(8), b"race")
    asyncio.run(drive(hosts, lambda: suite.run_state(run_id) == COMPLETED))

    done = Counter(e["step"] for e in suite.events("StepDone", run_id))
    claimed = Counter(e["step"] for e in suite.events("StepClaimed", run_id))
    assert done == Counter({i: 1 for i in range(8)})
    assert claimed == done
    assert calls == Counter({f"s{i}": 1 for i in range(8)})
    # (whether some claim actually lost a race depends on how the hosts were scheduled: one
    # host may batch all 8 claims into a block before the others look; exactly-once is the
    # property, whatever the interleaving)


def test_crashed_handler_lease_lapses_and_another_agent_finishes(suite: Suite) -> None:
    def crash(inp: StepInput) -> bytes:
        raise RuntimeError("model server unreachable")

    def ok(inp: StepInput) -> bytes:
        return b"done by the survivor"

    crasher = suite.agent("crasher", {"execute": crash})
    survivor = suite.agent("survivor", {"execute": ok})
    host = suite.host([crasher, survivor])
    run_id = suite.start(_fanout(1, lease=30))
    travelled = []

    def lapse() -> None:
        if host.stats["handler_failed"] and not travelled:
            travelled.append(True)
            suite.travel(31)

    asyncio.run(drive([host], lambda: suite.run_state(run_id) == COMPLETED, on_tick=lapse))

    assert [e["agentId"] for e in suite.events("StepClaimed", run_id)] == [
        crasher.agent_id, survivor.agent_id]
    assert [(e["agentId"], e["attempt"]) for e in suite.events("LeaseExpired", run_id)] == [
        (crasher.agent_id, 1)]
    assert [e["agentId"] for e in suite.events("StepDone", run_id)] == [survivor.agent_id]


def test_validator_rejection_is_followed_by_a_retry(suite: Suite) -> None:
    seen: list[int] = []

    def work(inp: StepInput) -> bytes:
        return f"attempt {inp.attempt}".encode()

    def strict(v: ValidationInput) -> Verdict:
        seen.append(v.step_input.attempt)
        return Verdict(approve=v.result != b"attempt 0", score=80 if v.result != b"attempt 0"
                       else 5)

    executor = suite.agent("executor", {"execute": work})
    validator = suite.agent("validator", validator=strict)
    host = suite.host([executor, validator])
    run_id = suite.start(_fanout(1, quorum=1, backoff=2))
    travelled = []

    def backoff() -> None:
        if suite.events("StepRejected", run_id) and not travelled:
            travelled.append(True)
            suite.travel(3)

    asyncio.run(drive([host], lambda: suite.run_state(run_id) == COMPLETED, on_tick=backoff))

    assert [(e["response"], e["rejections"]) for e in suite.events("StepValidated", run_id)] \
        == [(5, 1), (80, 0)]
    assert len(suite.events("StepRejected", run_id)) == 1
    assert [e["attempt"] for e in suite.events("StepClaimed", run_id)] == [0, 1]
    assert len(suite.events("StepDone", run_id)) == 1


def test_follower_uses_websocket_on_anvil_and_polling_when_told(suite: Suite) -> None:
    def work(inp: StepInput) -> bytes:
        return inp.name.encode()

    for ws, mode in ((None, "websocket"), (False, "polling")):
        host = suite.host([suite.agent(f"follow-{mode}", {"execute": work})], ws=ws)
        run_id = suite.start(_fanout(2), b"follow")
        asyncio.run(drive([host], lambda r=run_id, h=host: suite.run_state(r) == COMPLETED
                          and h.stats["submitted"] == 2))
        assert host.follower.mode == mode
        assert host.stats["submitted"] == 2


def test_an_ineligible_agent_does_not_pay_for_a_reverted_claim_at_every_rescan(
        suite: Suite) -> None:
    import time

    from accord.agents.onboard import register_identity
    from accord.agents.host import Agent

    operator = suite.fund()  # an identity that never bonded: every claim reverts NotEligible
    identity = suite.client.w3.to_checksum_address(suite.addresses["identity"])
    agent_id = register_identity(suite.client, identity, operator, "")
    agent = Agent("unbonded", operator, agent_id, {"execute": lambda inp: b"x"})
    host = suite.host([agent], precheck=False)  # as when nobody else competes
    suite.start(_fanout(2))
    before = suite.client.w3.eth.get_transaction_count(operator.address)
    end = time.monotonic() + 3.0  # ~30 rescans at rescan_s 0.1
    asyncio.run(drive([host], lambda: time.monotonic() > end))
    sent = suite.client.w3.eth.get_transaction_count(operator.address) - before
    assert 1 <= sent <= 2, f"{sent} claim transactions in 3 s"
    assert agent.bond_cap == 0  # until the next liveness round looks again
