"""Wiring between chains: each gateway trusts the others and knows their validator sets, and
each remote-step router trusts the routers of the others (when the ends name routers).

`link` is idempotent: it reads what is configured and sends only what differs, so running it
again on linked chains sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3

from accord.chain.client import Client
from accord.errors import ConfigError


@dataclass(frozen=True)
class GatewayEnd:
    client: Client
    gateway: str
    admin: LocalAccount
    router: str | None = None  # the RemoteStepRouter, linked when every end names one


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
