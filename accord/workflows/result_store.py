"""Content-addressed local result store: keccak256(bytes) -> one file.

A stored blob is addressed by ``accord-store://<64 hex>``; the hash is the same keccak256 the
coordinator records as a step's ``resultHash`` (or a run's ``inputHash``), so whoever fetches
a result checks it against the chain. Writes are atomic (temp file + rename), so agents in
several processes can share one directory. Other stores (IPFS, S3, an HTTP service) plug in
through the same two methods, ``put`` and ``get``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from eth_utils import keccak

from accord.errors import AccordError, ConfigError

SCHEME = "accord-store://"


class ResultIntegrityError(AccordError, ValueError):
    """A fetched blob does not match the hash recorded on chain."""


class ResultNotFoundError(AccordError, LookupError):
    """A URI names a blob this store does not hold."""


class BlobStore(Protocol):
    def put(self, data: bytes) -> tuple[bytes, str]: ...

    def get(self, uri: str, expected_hash: bytes | None = None) -> bytes: ...


def content_hash(data: bytes) -> bytes:
    """The 32-byte commitment of ``data`` (keccak256)."""
    return bytes(keccak(data))


def uri_for(digest: bytes) -> str:
    return SCHEME + digest.hex()


class ResultStore:
    """Blobs under ``root/<first 2 hex>/<64 hex>``."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, hexdigest: str) -> Path:
        return self.root / hexdigest[:2] / hexdigest

    def put(self, data: bytes) -> tuple[bytes, str]:
        """Store ``data``; returns (hash, ``accord-store://`` URI). Idempotent."""
        digest = content_hash(data)
        path = self._path(digest.hex())
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{id(data)}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return digest, uri_for(digest)

    def get(self, uri: str, expected_hash: bytes | None = None) -> bytes:
        """The blob ``uri`` names (``accord-store://``, ``file://`` or a plain path), checked
        against ``expected_hash`` (the on-chain commitment) when given."""
        if uri.startswith(SCHEME):
            hexdigest = uri[len(SCHEME):].lower()
            if len(hexdigest) != 64 or any(c not in "0123456789abcdef" for c in hexdigest):
                raise ConfigError(f"malformed store URI '{uri}'; expected {SCHEME}<64 hex>")
            path = self._path(hexdigest)
        elif uri.startswith("file://"):
            path = Path(uri[len("file://"):])
        elif uri == "":
            data = b""
            return self._checked(uri, data, expected_hash)
        else:
            raise ResultNotFoundError(f"cannot fetch '{uri}': this store resolves {SCHEME} and "
                                      "file:// URIs only; plug a store that knows the scheme")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ResultNotFoundError(f"'{uri}' is not in the result store at {self.root}; "
                                      "agents must share the store directory (--store)") from exc
        return self._checked(uri, data, expected_hash)

    @staticmethod
    def _checked(uri: str, data: bytes, expected_hash: bytes | None) -> bytes:
        if not uri and (expected_hash is None or not any(expected_hash)):
            return data  # no input at all: empty URI, zero hash
        if expected_hash is not None and content_hash(data) != bytes(expected_hash):
            raise ResultIntegrityError(
                f"'{uri}' hashes to 0x{content_hash(data).hex()} but the chain recorded "
                f"0x{bytes(expected_hash).hex()}; the blob was altered or mislabelled")
        return data


def default_store() -> ResultStore:
    from accord.paths import state_dir

    return ResultStore(state_dir() / "results")
