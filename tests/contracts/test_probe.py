"""ape compiles the project (OpenZeppelin from node_modules) and deploys it on anvil."""

from __future__ import annotations

import ape


def test_probe_compiled_by_ape_deploys_and_enforces_ownership(project, accounts) -> None:
    owner, other = accounts[0], accounts[1]
    probe = project.Probe.deploy(sender=owner)
    probe.set(42, sender=owner)
    assert probe.value() == 42
    with ape.reverts(probe.OwnableUnauthorizedAccount, account=other.address):
        probe.set(1, sender=other)
    assert probe.value() == 42


def test_default_test_network_is_anvil(chain) -> None:
    assert chain.provider.name == "foundry"
    assert chain.provider.web3.client_version.startswith("anvil/")
