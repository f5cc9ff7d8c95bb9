"""The AccordGateway message format, in Python: ids, EIP-712 attestation digests, batch roots,
ERC-7930 interoperable addresses and signature packing.

This module mirrors ``interfaces/IAccordGateway.sol`` byte for byte; the validator and the
relayer use it, and the gateway tests prove both sides agree.

- ``id = keccak256(abi.encodePacked(uint256 originChainId, address originGateway, uint64 nonce,
  address sender, uint256 destinationChainId, address recipient, uint64 expiry, uint64 gasLimit,
  bytes payload))`` (``expiry`` always included, 0 = none; ``gasLimit`` is the recipient's gas,
  from the ERC-7985 attribute ``minGasLimit(uint256)``, ``DEFAULT_GAS_LIMIT`` without it).
- Validators sign the EIP-712 digest in the ORIGIN gateway's domain (name "AccordGateway",
  version "1", chainId = origin chain, verifyingContract = origin gateway) of
  ``Attestation(bytes32 id)`` or, for a batch, ``BatchAttestation(bytes32 root)`` with
  ``root = keccak256(id_0 || ... || id_n-1)`` over the batch's ordered ids.
- Signatures are 65-byte ``r || s || v`` blobs concatenated in strictly ascending signer order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from Crypto.Hash import keccak as _keccak
from eth_utils import keccak, to_canonical_address
from eth_utils import to_checksum_address as _to_checksum_address

from accord.errors import MessageFormatError


@lru_cache(maxsize=4096)
def to_checksum_address(address: bytes | str) -> str:
    """eth_utils' checksum, remembered: a follower reading thousands of messages sees the same
    gateways and senders again and again, and checksumming cost it more than decoding."""
    return _to_checksum_address(address)


EXPIRY_ATTRIBUTE: bytes = keccak(text="expiry(uint64)")[:4]
"""ERC-7786 attribute selector for ``expiry(uint64)``."""

GAS_LIMIT_ATTRIBUTE: bytes = keccak(text="minGasLimit(uint256)")[:4]
"""ERC-7985 attribute selector for ``minGasLimit(uint256)``: the recipient's gas (sender-set)."""

DEFAULT_GAS_LIMIT = 200_000
"""``AccordGateway.DEFAULT_GAS_LIMIT``: recipient gas of a message sent without ``minGasLimit``."""

MAX_GAS_LIMIT = 10_000_000
"""``AccordGateway.MAX_GAS_LIMIT``: the largest ``minGasLimit`` a message may ask for."""

EXPIRY_NOTICE: bytes = keccak(text="accordExpired(bytes32,address)")[:4]
"""Tag of the expiry notice payload ``abi.encode(EXPIRY_NOTICE, id, originalSender)``."""

RECEIVE_MESSAGE_SELECTOR: bytes = keccak(text="receiveMessage(bytes32,bytes,bytes)")[:4]

DOMAIN_NAME = "AccordGateway"
DOMAIN_VERSION = "1"
_DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_ATTESTATION_TYPEHASH = keccak(text="Attestation(bytes32 id)")
_BATCH_TYPEHASH = keccak(text="BatchAttestation(bytes32 root)")
SIGNATURE_LENGTH = 65


@lru_cache(maxsize=4096)
def _canonical(value: str | bytes) -> bytes:
    return to_canonical_address(value)


def _address(value: str | bytes, what: str) -> bytes:
    if isinstance(value, bytes) and len(value) == 20:
        return value
    try:
        raw = _canonical(value)  # remembered: a relayer encodes the same few addresses
    except (ValueError, TypeError) as exc:
        raise MessageFormatError(f"{what} {value!r} is not an EVM address; pass 20 bytes or a "
                                 "0x-prefixed hex address") from exc
    return raw


def canonical_address(value: str | bytes) -> bytes:
    """The 20 bytes of an EVM address (hex, any case, or bytes); MessageFormatError if not."""
    return _address(value, "address")


def keccak256(data: bytes) -> bytes:
    """keccak256 of ``data``, straight from pycryptodome (eth_utils' wrapper, which also takes
    text and hex strings, cost more than the hash on the relayer's hot path)."""
    return bytes(_keccak.new(digest_bits=256, data=data).digest())


def _uint(value: int, bits: int, what: str) -> bytes:
    if not isinstance(value, int) or value < 0 or value >= 1 << bits:
        raise MessageFormatError(f"{what} must be an integer in [0, 2**{bits}), got {value!r}")
    return value.to_bytes(bits // 8, "big")


def _bytes32(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise MessageFormatError(f"{what} must be 32 bytes, got {value!r}")
    return bytes(value)


@dataclass(frozen=True)
class Message:
    """Every field a message id commits to (the Solidity ``IAccordGateway.Message`` struct)."""

    origin_chain_id: int
    origin_gateway: str
    nonce: int
    sender: str
    destination_chain_id: int
    recipient: str
    expiry: int
    payload: bytes
    gas_limit: int = DEFAULT_GAS_LIMIT

    @property
    def id(self) -> bytes:
        return message_id(self)

    def encode(self) -> bytes:
        """The encoded message ``deliver`` and friends take (its keccak256 is the id)."""
        return encode_message(self)


HEADER_LENGTH = 148
"""Bytes of an encoded message before its payload."""


def encode_message(message: Message) -> bytes:
    """``abi.encodePacked`` of every field, the payload last: what the gateway takes."""
    return (
        _uint(message.origin_chain_id, 256, "origin_chain_id")
        + _address(message.origin_gateway, "origin_gateway")
        + _uint(message.nonce, 64, "nonce")
        + _address(message.sender, "sender")
        + _uint(message.destination_chain_id, 256, "destination_chain_id")
        + _address(message.recipient, "recipient")
        + _uint(message.expiry, 64, "expiry")
        + _uint(message.gas_limit, 64, "gas_limit")
        + bytes(message.payload)
    )


def message_id(message: Message) -> bytes:
    """The 32-byte id of ``message`` (ERC-7786 sendId on the origin, receiveId on delivery):
    keccak256 of its encoding."""
    return keccak256(encode_message(message))


def decode_message(data: bytes) -> Message:
    """The message an encoding holds (the inverse of :func:`encode_message`)."""
    raw = bytes(data)
    if len(raw) < HEADER_LENGTH:
        raise MessageFormatError(f"an encoded message has at least {HEADER_LENGTH} bytes, got "
                                 f"{len(raw)}")
    return Message(
        origin_chain_id=int.from_bytes(raw[0:32], "big"),
        origin_gateway=to_checksum_address(raw[32:52]),
        nonce=int.from_bytes(raw[52:60], "big"),
        sender=to_checksum_address(raw[60:80]),
        destination_chain_id=int.from_bytes(raw[80:112], "big"),
        recipient=to_checksum_address(raw[112:132]),
        expiry=int.from_bytes(raw[132:140], "big"),
        gas_limit=int.from_bytes(raw[140:148], "big"),
        payload=raw[148:],
    )


@lru_cache(maxsize=256)
def domain_separator(origin_chain_id: int, origin_gateway: str) -> bytes:
    """EIP-712 domain separator of the origin gateway (what validators sign under)."""
    return keccak(
        _DOMAIN_TYPEHASH
        + keccak(text=DOMAIN_NAME)
        + keccak(text=DOMAIN_VERSION)
        + _uint(origin_chain_id, 256, "origin_chain_id")
        + b"\x00" * 12 + _address(origin_gateway, "origin_gateway")
    )


def attestation_digest(origin_chain_id: int, origin_gateway: str, id_or_root: bytes, *,
                       batch: bool = False) -> bytes:
    """The EIP-712 digest validators sign: ``Attestation(id)`` or ``BatchAttestation(root)``."""
    typehash = _BATCH_TYPEHASH if batch else _ATTESTATION_TYPEHASH
    struct_hash = keccak256(typehash + _bytes32(id_or_root, "id_or_root"))
    return keccak256(b"\x19\x01" + domain_separator(origin_chain_id, origin_gateway)
                     + struct_hash)


def batch_root(ids: Sequence[bytes]) -> bytes:
    """Root a batch attestation signs: keccak256 of the ordered, concatenated ids."""
    if not ids:
        raise MessageFormatError("a batch needs at least one message id")
    return keccak256(b"".join(_bytes32(i, "message id") for i in ids))


def encode_interop_address(chain_id: int, address: str | bytes) -> bytes:
    """ERC-7930 v1 EVM address, as OpenZeppelin's ``InteroperableAddress.formatEvmV1``."""
    ref = _uint(chain_id, 256, "chain_id").lstrip(b"\x00") or b"\x00"
    return b"\x00\x01\x00\x00" + bytes([len(ref)]) + ref + b"\x14" + _address(address, "address")


def decode_interop_address(data: bytes) -> tuple[int, str]:
    """(chain id, checksummed address) of an ERC-7930 v1 EIP-155 address with both parts."""
    raw = bytes(data)
    if len(raw) < 6 or raw[:4] != b"\x00\x01\x00\x00":
        raise MessageFormatError(f"0x{raw.hex()} is not an ERC-7930 v1 EIP-155 address")
    ref_len = raw[4]
    if ref_len == 0 or ref_len > 32 or len(raw) < 6 + ref_len:
        raise MessageFormatError(f"0x{raw.hex()} has no usable chain reference")
    chain_id = int.from_bytes(raw[5:5 + ref_len], "big")
    addr_len = raw[5 + ref_len]
    addr = raw[6 + ref_len:6 + ref_len + addr_len]
    if addr_len != 20 or len(addr) != 20:
        raise MessageFormatError(f"0x{raw.hex()} does not carry a 20-byte address")
    return chain_id, to_checksum_address(addr)


def expiry_attribute(expiry: int) -> bytes:
    """The ERC-7786 attribute ``expiry(uint64)`` for ``sendMessage``."""
    return EXPIRY_ATTRIBUTE + _uint(expiry, 64, "expiry").rjust(32, b"\x00")


def gas_limit_attribute(gas_limit: int) -> bytes:
    """The ERC-7985 attribute ``minGasLimit(uint256)`` for ``sendMessage``."""
    if not isinstance(gas_limit, int) or not 0 < gas_limit <= MAX_GAS_LIMIT:
        raise MessageFormatError(f"gas limit must be an integer in 1..{MAX_GAS_LIMIT:,}, got "
                                 f"{gas_limit!r}")
    return GAS_LIMIT_ATTRIBUTE + gas_limit.to_bytes(32, "big")


def attributes_of(attributes: Sequence[bytes]) -> tuple[int, int]:
    """(expiry, gas limit) from ERC-7786 ``attributes`` as AccordGateway reads them: expiry 0
    and ``DEFAULT_GAS_LIMIT`` when absent."""
    expiry, gas_limit = 0, DEFAULT_GAS_LIMIT
    for attr in attributes:
        raw = bytes(attr)
        if raw[:4] not in (EXPIRY_ATTRIBUTE, GAS_LIMIT_ATTRIBUTE):
            raise MessageFormatError(f"unsupported attribute 0x{raw[:4].hex()}; AccordGateway only "
                                     "knows expiry(uint64) and minGasLimit(uint256)")
        if len(raw) != 36:
            raise MessageFormatError(f"attribute 0x{raw.hex()} must be 36 bytes")
        value = int.from_bytes(raw[4:], "big")
        if raw[:4] == EXPIRY_ATTRIBUTE:
            expiry = value
        else:
            gas_limit = value
    return expiry, gas_limit


def expiry_from_attributes(attributes: Sequence[bytes]) -> int:
    """The ``expiry(uint64)`` attribute's value among ERC-7786 ``attributes`` (0 when absent)."""
    return attributes_of(attributes)[0]


def _word(data: bytes, at: int) -> int:
    if at < 0 or at + 32 > len(data):
        raise MessageFormatError(f"MessageSent data ends before its word at byte {at}")
    return int.from_bytes(data[at:at + 32], "big")


def _dynamic(data: bytes, base: int, head: int) -> bytes:
    """The ``bytes`` whose offset (from ``base``) is the word at ``head``."""
    at = base + _word(data, head)
    length = _word(data, at)
    if at + 32 + length > len(data):
        raise MessageFormatError(f"a bytes field at byte {at} claims {length} bytes past the "
                                 "end of the MessageSent data")
    return data[at + 32:at + 32 + length]


def decode_sent_data(data: bytes) -> tuple[bytes, bytes, bytes, int, list[bytes]]:
    """``(sender, recipient, payload, value, attributes)``: the non-indexed fields of ERC-7786
    ``MessageSent``, ``abi.encode(bytes, bytes, bytes, uint256, bytes[])``, decoded by hand
    (eth_abi's general decoder cost a follower more than everything else it does per message).
    Every offset and length is checked against the data: a malformed log raises
    :class:`MessageFormatError` and is never read past its end."""
    raw = bytes(data)
    sender, recipient, payload = (_dynamic(raw, 0, head) for head in (0, 32, 64))
    value = _word(raw, 96)
    array = _word(raw, 128)
    count = _word(raw, array)
    base = array + 32
    if count > (len(raw) - base) // 32:
        raise MessageFormatError(f"attributes claim {count} entries past the end of the "
                                 "MessageSent data")
    attributes = [_dynamic(raw, base, base + 32 * i) for i in range(count)]
    return sender, recipient, payload, value, attributes


def message_from_sent(origin_gateway: str, sender: bytes, recipient: bytes, payload: bytes,
                      attributes: Sequence[bytes], nonce: int) -> Message:
    """Rebuild a message from an AccordGateway's ``MessageSent`` fields and the ``nonce`` of the
    ``MessageNonce`` event that follows it (compare ``.id`` with ``MessageSent.sendId``)."""
    origin_chain_id, sender_address = decode_interop_address(sender)
    destination_chain_id, recipient_address = decode_interop_address(recipient)
    expiry, gas_limit = attributes_of(attributes)
    return Message(origin_chain_id, to_checksum_address(origin_gateway), nonce, sender_address,
                   destination_chain_id, recipient_address, expiry, bytes(payload), gas_limit)


def expiry_notice_payload(message_id_: bytes, original_sender: str) -> bytes:
    """Payload of the notice a destination gateway sends back when a message expired."""
    return (EXPIRY_NOTICE.ljust(32, b"\x00") + _bytes32(message_id_, "message id")
            + b"\x00" * 12 + _address(original_sender, "original_sender"))


def pack_signatures(signatures: Iterable[tuple[str, bytes]]) -> bytes:
    """Concatenate ``(signer, 65-byte signature)`` pairs in strictly ascending signer order."""
    ordered = sorted(((_address(s, "signer"), bytes(sig)) for s, sig in signatures),
                     key=lambda pair: pair[0])
    for i, (signer, sig) in enumerate(ordered):
        if len(sig) != SIGNATURE_LENGTH:
            raise MessageFormatError(f"signature of 0x{signer.hex()} is {len(sig)} bytes, "
                                     "expected 65 (r || s || v)")
        if i and ordered[i - 1][0] == signer:
            raise MessageFormatError(f"0x{signer.hex()} signed twice; keep one signature per "
                                     "validator")
    return b"".join(sig for _, sig in ordered)


def sign_digest(account: Any, digest: bytes) -> bytes:
    """Sign a 32-byte digest with an eth_account ``LocalAccount``: 65 bytes ``r || s || v``."""
    signed = account.unsafe_sign_hash(_bytes32(digest, "digest"))
    return bytes(signed.signature)
