"""Two devnet chains, a gateway on each, linked with a 2-of-3 validator set, and test
senders/recipients; the real validator and relayer code runs against them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey

from accord.chain.client import Client
from accord.chain.accounts import dev_account
from accord.dev.devnet import Chain
from accord.deploy.links import GatewayEnd, link
from accord.crosschain.messages import encode_interop_address
from accord.crosschain.relayer import Relayer, RelayerConfig
from accord.crosschain.attestation_store import SqliteStore
from accord.crosschain.attester import Attester, AttesterConfig

VALIDATOR_INDEXES = (5, 6, 7)
THRESHOLD = 2


@dataclass
class Side:
    chain: Chain
    client: Client
    gateway: str
    sender: str
    recipient: str


@dataclass
class TwoChains:
    a: Side
    b: Side
    admin: LocalAccount
    validators: list[LocalAccount]
    threshold: int = THRESHOLD

    def validator_set(self, origin: Side, store: SqliteStore, window: int,
                      count: int = THRESHOLD) -> list[Attester]:
        """``count`` in-process validators for ``origin`` (stragglers signed at once)."""
        return [Attester(origin.client, store, PrivateKey(v.key),
                          AttesterConfig(gateway=origin.gateway, window=window,
                                          straggler_s=0.0))
                for v in self.validators[:count]]

    def relayer(self, origin: Side, dest: Side, store: SqliteStore, window: int) -> Relayer:
        cfg = RelayerConfig(gateway=dest.gateway, origin_chain=origin.client.chain_id,
                            threshold=self.threshold, batch_size=window, recipient_gas=100_000)
        return Relayer(dest.client, store, dev_account(3), cfg)

    def send(self, origin: Side, dest: Side, count: int, tag: int = 1) -> None:
        """``count`` messages origin -> dest recipient, in transactions of up to 100."""
        bulk = origin.client.contract("MockBulkSender", origin.sender)
        to = encode_interop_address(dest.client.chain_id, dest.recipient)
        for start in range(0, count, 100):
            n = min(100, count - start)
            origin.client.transact(bulk.functions.sendMany(origin.gateway, to, tag, n),
                                   self.admin, gas=60_000 + 45_000 * n)

    def delivered_total(self, side: Side) -> int:
        return int(side.client.contract("MockCountingRecipient", side.recipient)
                   .functions.total().call())


def _side(chain: Chain, admin: LocalAccount) -> Side:
    client = Client(chain.rpc_url)
    gateway, _ = client.deploy("AccordGateway", admin.address, sender=admin)
    sender, _ = client.deploy("MockBulkSender", sender=admin)
    recipient, _ = client.deploy("MockCountingRecipient", sender=admin)
    return Side(chain, client, gateway.address, sender.address, recipient.address)


@pytest.fixture
def tc(chaina: Chain, chainb: Chain) -> TwoChains:
    """Fresh gateways (so nonces and windows start at 0) on the session's two devnets."""
    admin = dev_account(0)
    a, b = _side(chaina, admin), _side(chainb, admin)
    validators = [dev_account(i) for i in VALIDATOR_INDEXES]
    link([GatewayEnd(a.client, a.gateway, admin), GatewayEnd(b.client, b.gateway, admin)],
         [v.address for v in validators], THRESHOLD)
    return TwoChains(a, b, admin, validators)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "relay.sqlite"
