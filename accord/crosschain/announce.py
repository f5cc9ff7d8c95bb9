"""Attester announcements: where each gateway attester publishes its signed attestations.

An attester signs the location it publishes at (an ``http(s)://`` URL prefix) and anyone
records it in the chain's ``AttesterAnnounce`` contract; a relayer that knows only RPC URLs
reads the origin's validator set from the destination gateway and the validators' latest
locations from the announce contract (the way Hyperlane relayers find validators'
checkpoints through ValidatorAnnounce). Both sides are here: ``announcement_digest`` /
``sign_announcement`` / ``announce`` for the attester, ``discover`` for the relayer.
"""

from __future__ import annotations

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey
from eth_utils import keccak, to_checksum_address

from accord.chain.client import Client
from accord.errors import ConfigError

#: Longest location the contract takes (``AttesterAnnounce.MAX_LOCATION_BYTES``).
MAX_LOCATION_BYTES = 512
_TAG = keccak(text="ACCORD_ATTESTER_ANNOUNCEMENT")


def check_location(location: str) -> str:
    """``location`` if it is an http(s) URL the contract takes, else a ConfigError."""
    raw = location.encode()
    if not location.startswith(("http://", "https://")) or not 0 < len(raw) <= MAX_LOCATION_BYTES:
        raise ConfigError(f"an attester location must be an http:// or https:// URL of at most "
                          f"{MAX_LOCATION_BYTES} bytes where its attestations are served; got "
                          f"{location!r}")
    return location


def announcement_digest(chain_id: int, announce_contract: str, location: str) -> bytes:
    """The EIP-191 digest an attester signs to announce ``location`` (the contract's
    ``announcementDigest``)."""
    inner = keccak(encode(["bytes32", "uint256", "address", "bytes32"],
                          [_TAG, chain_id, to_checksum_address(announce_contract),
                           keccak(location.encode())]))
    return keccak(b"\x19Ethereum Signed Message:\n32" + inner)


def sign_announcement(key: PrivateKey, chain_id: int, announce_contract: str,
                      location: str) -> bytes:
    """The attester's 65-byte signature (r, s, v) of its announcement of ``location``."""
    sig = key.sign_msg_hash(announcement_digest(chain_id, announce_contract, location))
    return sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([sig.v + 27])


def announce(client: Client, announce_contract: str, key: PrivateKey, location: str,
             sender: LocalAccount) -> bool:
    """Announce that the attester of ``key`` publishes at ``location``, sent (and paid) by
    ``sender``; False when that location is already its latest (nothing to do)."""
    check_location(location)
    attester = key.public_key.to_checksum_address()
    contract = client.contract("AttesterAnnounce", announce_contract)
    if contract.functions.locations([attester]).call()[0] == location:
        return False
    signature = sign_announcement(key, client.chain_id, announce_contract, location)
    client.transact(contract.functions.announce(attester, location, signature), sender)
    return True


def discover(client: Client, announce_contract: str, attesters: list[str]) -> dict[str, str]:
    """The latest announced location of each of ``attesters`` that announced one."""
    contract = client.contract("AttesterAnnounce", announce_contract)
    found = contract.functions.locations([to_checksum_address(a) for a in attesters]).call()
    return {to_checksum_address(a): loc for a, loc in zip(attesters, found, strict=True) if loc}
