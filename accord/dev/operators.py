"""Who did what on a devnet: every transaction on each chain attributed to the operator whose
account sent it, counted by the Accord function it called, with the gas it paid.

The demo runs each attester, relayer, the keeper and each agent group as a separate operator
(its own state directory and key); its summary shows this table, so it is plain that the
run's work was spread over parties that shared nothing but the chains."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cache

from eth_utils import function_abi_to_4byte_selector, to_checksum_address
from web3.types import RPCEndpoint

from accord.chain.client import Client

#: The contracts whose functions are named in the table (others show as their selector).
CONTRACTS = ("WorkflowCoordinator", "WorkflowCoordinatorExtension", "AgentRoles",
             "RemoteStepRouter", "AccordGateway", "AccordGasPaymaster", "IdentityRegistry",
             "AttesterAnnounce", "ActionLog")


@dataclass
class Activity:
    """One operator's transactions: calls by function name, and gas paid, per chain."""

    calls: Counter[str] = field(default_factory=Counter)
    gas: int = 0
    transactions: int = 0

    def describe(self, limit: int = 5) -> str:
        top = ", ".join(f"{name} {n}" for name, n in self.calls.most_common(limit))
        more = len(self.calls) - limit
        return (f"{top}{f', +{more} more' if more > 0 else ''} "
                f"({self.transactions} tx, {self.gas:,} gas)")


@cache
def _selectors() -> dict[str, str]:
    from accord.chain.artifacts import artifact
    from accord.errors import ToolchainError

    names: dict[str, str] = {}
    for contract in CONTRACTS:
        try:
            abi = artifact(contract).abi
        except ToolchainError:
            continue
        for item in abi:
            if item.get("type") == "function":
                selector = function_abi_to_4byte_selector(item)  # type: ignore[arg-type]
                names["0x" + selector.hex()] = item["name"]
    return names


def activity(client: Client, owners: dict[str, str], first_block: int = 1
             ) -> dict[str, Activity]:
    """Per operator name (``owners`` maps checksummed addresses to names), what its accounts
    sent on ``client``'s chain from ``first_block`` to the head. Accounts of nobody listed
    are summed under "others"."""
    names = _selectors()
    out: dict[str, Activity] = {}
    head = client.w3.eth.block_number
    for n in range(first_block, head + 1):
        block = client.w3.provider.make_request(RPCEndpoint("eth_getBlockByNumber"),
                                                [hex(n), True])["result"]
        receipts = client.w3.provider.make_request(RPCEndpoint("eth_getBlockReceipts"),
                                                   [hex(n)])["result"] or []
        used = {r["transactionHash"]: int(r["gasUsed"], 16) for r in receipts}
        for tx in block["transactions"]:
            who = owners.get(to_checksum_address(tx["from"]), "others")
            act = out.setdefault(who, Activity())
            selector = tx["input"][:10]
            call = "deploy" if tx.get("to") is None else names.get(selector, selector)
            act.calls[call] += 1
            act.transactions += 1
            act.gas += used.get(tx["hash"], 0)
    return out
