"""Deterministic demo handlers for examples/research.yaml (pure Python, no model calls).

Each returns bytes that depend only on the step's inputs, so reruns produce the same result
hashes. Swap any of them for a model call (see the README snippet in the agents docs).

``ACCORD_DEMO_PACE_S`` (set by ``accord demo --dashboard``) makes each work handler take that
many seconds, as a model call would, so people can watch the graph move; 0 by default.
``ACCORD_DEMO_GATE`` (a file path) makes each work handler wait until that file exists, so a
watcher (the dashboard's browser test) sets the pace: it sees the run before any step is
done, however slowly it starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import time

from accord.agents.handlers import StepInput, StepOutput, ValidationInput, Verdict


def _digest(*parts: bytes) -> str:
    return hashlib.sha256(b"\x00".join(parts)).hexdigest()[:16]


GATE_TIMEOUT_S = 600.0


def _pace() -> None:
    gate = os.environ.get("ACCORD_DEMO_GATE")
    if gate:
        deadline = time.monotonic() + GATE_TIMEOUT_S
        while not os.path.exists(gate):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{gate} (ACCORD_DEMO_GATE) did not appear within "
                                   f"{GATE_TIMEOUT_S:.0f}s")
            time.sleep(0.1)
    pace = float(os.environ.get("ACCORD_DEMO_PACE_S") or 0)
    if pace > 0:
        time.sleep(pace)


def research(inp: StepInput) -> bytes:
    _pace()
    topic = inp.input.decode(errors="replace").strip() or "an unnamed topic"
    facts = [f"fact {i}: {_digest(topic.encode(), bytes([i]))}" for i in range(3)]
    return json.dumps({"step": inp.name, "topic": topic, "facts": facts}).encode()


def analyze(inp: StepInput) -> bytes:
    _pace()
    sources = {name: _digest(data) for name, data in sorted(inp.deps.items())}
    score = int(_digest(inp.name.encode(), *inp.deps.values()), 16) % 100
    return json.dumps({"step": inp.name, "sources": sources, "score": score}).encode()


def report(inp: StepInput) -> bytes:
    _pace()
    parts = {name: json.loads(data) if data[:1] == b"{" else _digest(data)
             for name, data in sorted(inp.deps.items())}
    return json.dumps({"step": inp.name, "summary": parts, "run": inp.run_id}).encode()


def triage(inp: StepInput) -> StepOutput:
    """The decision of examples/triage.yaml: 'fix' when the intake mentions a bug or an
    error, 'wontfix' otherwise. A decision handler returns ``StepOutput`` with the names of
    the dependents to run; the coordinator skips the others (plain bytes are refused)."""
    _pace()
    text = b" ".join([inp.input, *inp.deps.values()]).decode(errors="replace").lower()
    branch = "fix" if "bug" in text or "error" in text else "wontfix"
    return StepOutput(json.dumps({"step": inp.name, "branch": branch}).encode(),
                      branches=(branch,))


def review(v: ValidationInput) -> Verdict:
    """Approve well-formed JSON results that name their own step."""
    try:
        body = json.loads(v.result)
    except ValueError:
        return Verdict(False, 10)
    return Verdict(isinstance(body, dict) and body.get("step") == v.step_input.name, 90)


def echo(inp: StepInput) -> bytes:
    """The smallest handler: the step's name and the run input (used by the benchmark)."""
    return inp.name.encode() + b":" + inp.input


def execute(inp: StepInput) -> bytes:
    """Act on a contract of the chain this step runs on (the demo's ActionLog on chainb).

    Where: ``ACCORD_DEMO_RPC`` and ``ACCORD_DEMO_ACTION_LOG``; who: the key in
    ``ACCORD_DEMO_ACTOR_KEY``. The result names the transaction, so validators (and people)
    can check the action on-chain."""
    from eth_account import Account
    from web3 import Web3

    from accord.chain.client import Client

    client = Client(os.environ["ACCORD_DEMO_RPC"])
    actor = Account.from_key(os.environ["ACCORD_DEMO_ACTOR_KEY"])
    log = client.contract("ActionLog", os.environ["ACCORD_DEMO_ACTION_LOG"])
    key = Web3.keccak(inp.input)
    plan = json.loads(inp.input) if inp.input[:1] == b"{" else {}
    note = f"executed plan {_digest(inp.input)} from {plan.get('step', 'input')}"
    receipt = client.transact(log.functions.record(key, note), actor)
    return json.dumps({"step": inp.name, "action": note, "chain_id": client.chain_id,
                       "tx": "0x" + bytes(receipt["transactionHash"]).hex()}).encode()
