"""Accord's settings: the ``accord:`` section of ape-config.yaml, with per-network overrides."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from web3 import Web3

from accord.errors import ConfigError
from accord.paths import ape_config


def role_id(name: str) -> bytes:
    """The bytes32 id of a role name: keccak256 of the name (``0x``-hex is taken as is)."""
    if name.startswith("0x") and len(name) == 66:
        return bytes.fromhex(name[2:])
    return bytes(Web3.keccak(text=name))


@dataclass
class NetworkSettings:
    validators: int = 3
    threshold: int = 2
    confirmations: int = 0
    identity_registry: str | None = None
    validator_addresses: list[str] | None = None  # live networks: the validator set to link
    #: Where this network's gas paymaster sends relayer fees (default: the deployer).
    fee_beneficiary: str | None = None
    #: What delivering to this network costs, for the paymasters of the networks linked to
    #: it (``accord link``): its gas price in its own wei (devnets: 1 gwei when unset; live
    #: networks get no price until it is set), the gas a relayer spends per message besides
    #: the recipient's, and its native token in the senders' token scaled by 1e10 (1e10: the
    #: same token, as on every devnet and ETH L2).
    gas_price: int | None = None
    gas_overhead: int = 60_000
    token_exchange_rate: int = 10**10
    #: Devnets: seconds between blocks for the anvil `accord devnet up` and the demo start
    #: (None: a block for every transaction).
    block_time: float | None = None


@dataclass
class Settings:
    roles: dict[str, int] = field(default_factory=dict)
    validator_role: str = "validator"
    unbonding_delay: int = 86_400
    heartbeat_expiry: int = 3_600
    #: Seconds between announcing a slasher on AgentRoles and its activation (0 = twice the
    #: unbonding delay). Longer than the unbonding delay lets an agent that starts unbonding
    #: when it sees the announcement leave before the new slasher takes effect.
    slasher_delay: int = 0
    networks: dict[str, NetworkSettings] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.slasher_delay == 0:
            self.slasher_delay = 2 * self.unbonding_delay

    def network(self, name: str) -> NetworkSettings:
        """Settings of a devnet name or ape network choice (``ethereum:sepolia:node`` looks up
        ``ethereum:sepolia``, then ``sepolia``)."""
        parts = name.split(":")
        for key in (":".join(parts[:2]), parts[1] if len(parts) > 1 else parts[0]):
            if key in self.networks:
                return self.networks[key]
        return NetworkSettings()


def load() -> Settings:
    raw: Any = ape_config().get("accord") or {}
    if not isinstance(raw, dict):
        raise ConfigError("the 'accord:' section of ape-config.yaml must be a mapping")
    try:
        roles = {str(k): int(v) for k, v in (raw.get("roles") or {}).items()}
        nets = {str(k): NetworkSettings(**(v or {}))
                for k, v in (raw.get("networks") or {}).items()}
        return Settings(roles=roles, validator_role=str(raw.get("validator_role", "validator")),
                        unbonding_delay=int(raw.get("unbonding_delay", 86_400)),
                        heartbeat_expiry=int(raw.get("heartbeat_expiry", 3_600)),
                        slasher_delay=int(raw.get("slasher_delay") or 0),
                        networks=nets)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"the 'accord:' section of ape-config.yaml is invalid: {exc}") from exc
