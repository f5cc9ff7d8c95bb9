"""What every benchmark gets: a fresh anvil (prague), a web3 client, funded dev accounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from accord.chain.accounts import dev_account
from accord.chain.client import Client
from accord.dev.devnet import Chain, Devnet


@dataclass
class BenchContext:
    devnet: Devnet
    chain: Chain
    client: Client
    accounts: list[LocalAccount] = field(default_factory=list)
    gas_only: bool = False  # skip throughput/latency parts (the CI gas-snapshot check)

    def account(self, index: int) -> LocalAccount:
        while len(self.accounts) <= index:
            self.accounts.append(dev_account(len(self.accounts)))
        return self.accounts[index]

    def fresh_chain(self, name: str) -> tuple[Chain, Client]:
        """Another anvil (own chain id) for benchmarks that need two chains."""
        chain = self.devnet.start(name)
        return chain, Client(chain.rpc_url)


def gas(receipt: Any) -> int:
    return int(receipt["gasUsed"])
