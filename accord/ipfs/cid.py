"""The one kind of CID Accord writes and reads: CIDv1, codec raw (0x55), multihash sha2-256,
in base32 (``bafkrei...``). Such a CID names its bytes exactly, so a reader checks any copy
against it without trusting whoever served it; it is what ``ipfs add --cid-version 1
--raw-leaves`` gives a file of one block, so other IPFS tools name the same bytes the same."""

from __future__ import annotations

import base64
import hashlib

_PREFIX = bytes([0x01, 0x55, 0x12, 0x20])  # CIDv1, raw, sha2-256, 32-byte digest
URI_SCHEME = "ipfs://"


class CidError(ValueError):
    """Not a CID Accord reads (a raw sha2-256 CIDv1 in base32)."""


def raw_cid(data: bytes) -> str:
    """The CID of ``data`` as one raw block."""
    return _encode(hashlib.sha256(data).digest())


def _encode(digest: bytes) -> str:
    return "b" + base64.b32encode(_PREFIX + digest).decode().lower().rstrip("=")


def sha256_of(cid: str) -> bytes:
    """The sha2-256 digest a CID names; CidError for anything but a base32 raw sha2-256 CIDv1
    (Accord never writes other kinds, so a URI naming one is refused before any request)."""
    if not cid.startswith("b") or not cid[1:].isalnum() or cid[1:] != cid[1:].lower():
        raise CidError(f"'{cid[:80]}' is not a base32 CIDv1 (bafkrei...)")
    body = cid[1:].upper()
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except ValueError:
        raise CidError(f"'{cid[:80]}' is not valid base32") from None
    if len(raw) != len(_PREFIX) + 32 or not raw.startswith(_PREFIX) or _encode(raw[4:]) != cid:
        raise CidError(f"'{cid[:80]}' is not a raw sha2-256 CIDv1, the only kind Accord reads")
    return raw[len(_PREFIX):]


def cid_of_uri(uri: str) -> str:
    """The CID an ``ipfs://<CID>`` URI names (no path, query or fragment: a URI off the chain
    may name a block, nothing else)."""
    if not uri.startswith(URI_SCHEME):
        raise CidError(f"'{uri[:80]}' is not an ipfs://<CID> URI")
    cid = uri[len(URI_SCHEME):]
    sha256_of(cid)
    return cid
