"""Attester announcements: where each gateway attester publishes its signed attestations.

An attester signs the location it publishes at (an ``http(s)://`` URL prefix) with a
sequence number that must grow (so no older announcement can replace a newer) and anyone
records it in the chain's ``AttesterAnnounce`` contract; a relayer that knows only RPC URLs
reads the origin's validator set from the destination gateway and the validators' latest
locations from the announce contract (the way Hyperlane relayers find validators'
checkpoints through ValidatorAnnounce). Both sides are here: ``announcement_digest`` /
``sign_announcement`` / ``announce`` for the attester, ``discover`` for the relayer.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey
from eth_utils import keccak, to_checksum_address

from accord.chain.client import Client
from accord.errors import ConfigError, ContractRevert

#: Longest location the contract takes (``AttesterAnnounce.MAX_LOCATION_BYTES``).
MAX_LOCATION_BYTES = 512
_TAG = keccak(text="ACCORD_ATTESTER_ANNOUNCEMENT")


def check_location(location: str) -> str:
    """``location`` if it is a plain http(s) URL (no user info, query or fragment, which
    relayers refuse) the contract takes, else a ConfigError."""
    raw = location.encode()
    try:
        url = urlsplit(location)
        plain = url.scheme in ("http", "https") and bool(url.hostname) and not (
            url.username or url.password or url.query or url.fragment or "?" in location
            or "#" in location)
    except ValueError:
        plain = False
    if not plain or not 0 < len(raw) <= MAX_LOCATION_BYTES:
        raise ConfigError(f"an attester location must be an http:// or https:// URL of at most "
                          f"{MAX_LOCATION_BYTES} bytes, with no user info, query or fragment, "
                          f"where its attestations are served; got {location!r}")
    return location


def announcement_digest(chain_id: int, announce_contract: str, location: str,
                        sequence: int) -> bytes:
    """The EIP-191 digest an attester signs to announce ``location`` as its ``sequence``-th
    announcement (the contract's ``announcementDigest``)."""
    inner = keccak(encode(["bytes32", "uint256", "address", "bytes32", "uint64"],
                          [_TAG, chain_id, to_checksum_address(announce_contract),
                           keccak(location.encode()), sequence]))
    return keccak(b"\x19Ethereum Signed Message:\n32" + inner)


def sign_announcement(key: PrivateKey, chain_id: int, announce_contract: str,
                      location: str, sequence: int) -> bytes:
    """The attester's 65-byte signature (r, s, v) of its announcement of ``location``."""
    sig = key.sign_msg_hash(announcement_digest(chain_id, announce_contract, location,
                                                sequence))
    return sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([sig.v + 27])


def announce(client: Client, announce_contract: str, key: PrivateKey, location: str,
             sender: LocalAccount) -> bool:
    """Announce that the attester of ``key`` publishes at ``location`` (its latest sequence
    number + 1; a URL it used before is fine), sent and paid by ``sender``; False when that
    location is already its latest. Someone who carries the same announcement first (a
    front-run) changes nothing: the location is then the latest, as wanted."""
    check_location(location)
    attester = key.public_key.to_checksum_address()
    contract = client.contract("AttesterAnnounce", announce_contract)
    current, sequence = contract.functions.latest(attester).call()
    if current == location:
        return False
    signature = sign_announcement(key, client.chain_id, announce_contract, location,
                                  int(sequence) + 1)
    try:
        client.transact(contract.functions.announce(attester, location, int(sequence) + 1,
                                                    signature), sender)
    except ContractRevert as exc:
        if exc.name != "AnnounceStaleSequence" or \
                contract.functions.latest(attester).call()[0] != location:
            raise
        return False
    return True


def discover(client: Client, announce_contract: str, attesters: list[str]) -> dict[str, str]:
    """The latest announced location of each of ``attesters`` that announced one."""
    contract = client.contract("AttesterAnnounce", announce_contract)
    found = contract.functions.locations([to_checksum_address(a) for a in attesters]).call()
    return {to_checksum_address(a): loc for a, loc in zip(attesters, found, strict=True) if loc}
