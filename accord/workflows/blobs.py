"""What every result store shares: the blob's commitment (keccak256), the errors that tell a
lying submitter from a faulty store, the store protocol, and a bounded HTTP download. The
stores themselves are :mod:`accord.workflows.result_store` (local directory, HTTP service)
and :mod:`accord.ipfs.store` (IPFS)."""

from __future__ import annotations

from typing import Protocol

from eth_utils import keccak

from accord.errors import AccordError

SCHEME = "accord-store://"
#: The largest blob a store accepts or fetches (a result, a run input).
MAX_BLOB_BYTES = 16 * 1024 * 1024
FETCH_TIMEOUT_S = 10.0  # per read
FETCH_DEADLINE_S = 30.0  # per fetch, whole (a server dripping bytes is cut off)


class ResultIntegrityError(AccordError, ValueError):
    """A fetched blob does not match the hash recorded on chain."""


class ResultNotFoundError(AccordError, LookupError):
    """A URI names a blob this store does not hold."""


class ResultUnavailableError(ResultNotFoundError):
    """A store served bytes that do not hash to what the URI names: the store is faulty or
    lying, and the blob is as good as missing (not evidence against the submitter)."""


class BlobStore(Protocol):
    """``put`` stores bytes and answers (keccak256, URI); ``get`` answers the bytes a URI
    names, checked against ``expected_hash`` (the chain's) when given."""

    def put(self, data: bytes) -> tuple[bytes, str]: ...

    def get(self, uri: str, expected_hash: bytes | None = None) -> bytes: ...


def content_hash(data: bytes) -> bytes:
    """The 32-byte commitment of ``data`` (keccak256)."""
    return bytes(keccak(data))


def uri_for(digest: bytes) -> str:
    return SCHEME + digest.hex()


def download(url: str, what: str, limit: int, *, label: str | None = None,
             headers: dict[str, str] | None = None) -> bytes:
    """GET ``url`` (``what`` serves it; ``label`` names it in errors, default the URL): at
    most ``limit`` bytes within FETCH_DEADLINE_S, no redirects, no credentials from the
    environment. ResultNotFoundError for a 404, a refusal or a service that is down;
    ResultUnavailableError for a blob too large or too slow."""
    import time

    import requests

    name = label or url
    deadline = time.monotonic() + FETCH_DEADLINE_S
    data = bytearray()
    try:
        with requests.Session() as session:
            session.trust_env = False
            with session.get(url, timeout=FETCH_TIMEOUT_S, stream=True,
                             allow_redirects=False, headers=headers) as resp:
                if resp.status_code == 404:
                    raise ResultNotFoundError(f"'{name}': {what} does not hold it (404)")
                if resp.status_code != 200:
                    raise ResultNotFoundError(f"'{name}': {what} answered "
                                              f"{resp.status_code}; try again later")
                for chunk in resp.iter_content(64 * 1024):
                    data += chunk
                    if len(data) > limit:
                        raise ResultUnavailableError(f"'{name}' is larger than {limit} "
                                                     "bytes; refusing it")
                    if time.monotonic() > deadline:
                        raise ResultUnavailableError(f"'{name}' took over {FETCH_DEADLINE_S:.0f}"
                                                     " s to fetch; giving up on it")
    except requests.RequestException as exc:
        raise ResultNotFoundError(f"cannot fetch '{name}' ({type(exc).__name__}); is "
                                  f"{what} up?") from None
    return bytes(data)
