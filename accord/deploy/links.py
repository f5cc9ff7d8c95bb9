"""Wiring between chains: each gateway trusts the others and knows their validator sets, each
remote-step router trusts the routers of the others (when the ends name routers), and each
gas paymaster quotes a price for delivering to the others (when the ends name paymasters and
the destination has a price: its ``gas_price`` in ape-config.yaml, or on devnets a default).

`link` is idempotent: it reads what is configured and sends only what differs, so running it
again on linked chains sends nothing. A configured price is enforced; a default one is only
set where the paymaster has none, so a price its owner set by hand is never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3

from accord.chain.client import Client
from accord.chain.types import GasOracle
from accord.errors import ConfigError
from accord.settings import NetworkSettings

#: Gas price a devnet destination is quoted at when ape-config.yaml gives none (anvil's
#: starting base fee).
DEVNET_GAS_PRICE = 1_000_000_000


@dataclass(frozen=True)
class GatewayEnd:
    client: Client
    gateway: str
    admin: LocalAccount
    router: str | None = None  # the RemoteStepRouter, linked when every end names one
    paymaster: str | None = None  # the AccordGasPaymaster: quotes for the other ends
    #: What delivering TO this end costs (the other ends' paymasters quote it); ``enforced``:
    #: configured, so it replaces a different price, else only fills a missing one.
    gas_oracle: GasOracle | None = None
    enforced: bool = False


def destination_oracle(net: NetworkSettings, devnet: bool) -> tuple[GasOracle | None, bool]:
    """(oracle, enforced) for a destination with settings ``net``: its configured price
    (enforced), a devnet's default (not enforced), or none for a live network without one."""
    if net.gas_price is not None:
        return GasOracle(net.token_exchange_rate, net.gas_price, net.gas_overhead), True
    if devnet:
        return GasOracle(net.token_exchange_rate, DEVNET_GAS_PRICE, net.gas_overhead), False
    return None, False


def link(ends: Sequence[GatewayEnd], validators: Sequence[str], threshold: int,
         log: Callable[[str], None] = lambda _: None) -> list[str]:
    """Make every gateway trust every other one with ``threshold``-of-``validators``."""
    if not 0 < threshold <= len(validators):
        raise ConfigError(f"threshold {threshold} must be between 1 and the number of "
                          f"validators ({len(validators)})")
    ordered = sorted((Web3.to_checksum_address(v) for v in validators), key=lambda a: int(a, 16))
    changed: list[str] = []
    for here in ends:
        gw = here.client.contract("AccordGateway", here.gateway)
        for there in ends:
            if there is here:
                continue
            origin = there.client.chain_id
            trusted = gw.functions.trustedGateway(origin).call()
            _, have_threshold, _ = gw.functions.originConfig(origin).call()
            if Web3.to_checksum_address(trusted) != Web3.to_checksum_address(there.gateway):
                here.client.transact(gw.functions.setTrustedGateway(origin, there.gateway),
                                     here.admin)
                changed.append(f"{here.client.chain_id}: trusts gateway {there.gateway} "
                               f"of chain {origin}")
            current = [Web3.to_checksum_address(a) for a in gw.functions.validators(origin).call()]
            if current != ordered or have_threshold != threshold:
                here.client.transact(gw.functions.setValidatorSet(origin, ordered, threshold),
                                     here.admin)
                changed.append(f"{here.client.chain_id}: {threshold}-of-{len(ordered)} "
                               f"validators for chain {origin}")
            if here.router and there.router:
                changed += _link_router(here, there)
            if here.paymaster and there.gas_oracle is not None:
                changed += _link_paymaster(here, there)
    for line in changed:
        log(line)
    return changed


def _link_router(here: GatewayEnd, there: GatewayEnd) -> list[str]:
    assert here.router and there.router
    router = here.client.contract("RemoteStepRouter", here.router)
    origin = there.client.chain_id
    trusted = router.functions.remoteRouter(origin).call()
    if Web3.to_checksum_address(trusted) == Web3.to_checksum_address(there.router):
        return []
    here.client.transact(router.functions.setRemoteRouter(origin, there.router), here.admin)
    return [f"{here.client.chain_id}: router trusts router {there.router} of chain {origin}"]


def _link_paymaster(here: GatewayEnd, there: GatewayEnd) -> list[str]:
    assert here.paymaster and there.gas_oracle is not None
    pm = here.client.contract("AccordGasPaymaster", here.paymaster)
    dest = there.client.chain_id
    have = GasOracle.from_abi(pm.functions.gasOracle(dest).call())
    want = there.gas_oracle
    if have == want or (have.tokenExchangeRate != 0 and not there.enforced):
        return []
    here.client.transact(pm.functions.setGasOracle(dest, tuple(want)), here.admin)
    return [f"{here.client.chain_id}: paymaster quotes chain {dest} at {want.gasPrice:,} wei/gas, "
            f"{want.gasOverhead:,} gas overhead, exchange rate {want.tokenExchangeRate}/1e10"]
