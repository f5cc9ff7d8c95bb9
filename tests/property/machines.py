"""What the stateful property tests share: reproducible settings, running a machine, a fast
web3 client, and a base machine for one anvil whose examples each run in an evm snapshot."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import RuleBasedStateMachine
from web3 import Web3


def property_settings(examples: int, steps: int) -> settings:
    """Reproducible settings (derandomized, no example database) for the stateful tests.
    ``ACCORD_PROPERTY_EXAMPLES`` overrides the example count (soaks) and
    ``ACCORD_PROPERTY_SHRINK=0`` skips shrinking (a failing soak reports its first failure)."""
    examples = int(os.environ.get("ACCORD_PROPERTY_EXAMPLES", examples))
    phases = list(Phase)
    if os.environ.get("ACCORD_PROPERTY_SHRINK", "1") == "0":
        phases.remove(Phase.shrink)
    return settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                    derandomize=True, database=None, phases=phases,
                    suppress_health_check=list(HealthCheck))


def run_machine(machine: Any, examples: int, steps: int, **attrs: Any) -> None:
    """Run a RuleBasedStateMachine class with ``property_settings``, after setting ``attrs``
    (its environment: deployed contracts, a temporary folder) as class attributes."""
    for name, value in attrs.items():
        setattr(machine, name, value)
    test = machine.TestCase
    test.settings = property_settings(examples, steps)
    test("runTest").runTest()


def plain_web3(chain: Any) -> Web3:
    """A web3 client at ape's node without ape's middleware: its validation asks eth_chainId
    before every call, which makes a read 9 ms instead of 1 (the per-step invariants read
    dozens of values)."""
    return Web3(Web3.HTTPProvider(chain.provider.uri), middleware=[])


class OneChainMachine(RuleBasedStateMachine):
    """A machine over one anvil (``env["w3"]``, a :func:`plain_web3`): ``begin`` snapshots
    the chain and reads its clock, ``teardown`` reverts; ``_send`` mines each transaction at
    the next second of the machine's own clock (``now``), so models can predict time."""

    env: dict[str, Any]
    GAS = 3_000_000

    def begin(self) -> None:
        self.w3: Web3 = self.env["w3"]
        self.snapshot = self.w3.provider.make_request("evm_snapshot", [])["result"]
        self.now = int(self.w3.eth.get_block("latest")["timestamp"])

    def teardown(self) -> None:
        if hasattr(self, "snapshot"):
            self.w3.provider.make_request("evm_revert", [self.snapshot])

    def _send(self, fn: Any, sender: str, value: int = 0) -> bool:
        """Whether the transaction succeeded (a revert is an outcome, not an error)."""
        self.now += 1
        self.w3.provider.make_request("evm_setNextBlockTimestamp", [self.now])
        tx = fn.transact({"from": sender, "value": value, "gas": self.GAS})
        return self.w3.eth.wait_for_transaction_receipt(tx, poll_latency=0.01)["status"] == 1

    def _advance(self, seconds: int) -> None:
        """Time passes: one empty block ``seconds`` later."""
        self.now += seconds
        self.w3.provider.make_request("evm_mine", [self.now])

