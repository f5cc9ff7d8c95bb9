"""Content-addressed result stores: keccak256(bytes) -> the blob, wherever it lives.

The hash is the same keccak256 the coordinator records as a step's ``resultHash`` (or a run's
``inputHash``), so whoever fetches a blob checks it against the chain. Stores plug in by the
scheme of the URIs they write, through two methods, ``put`` and ``get``:

- ``accord-store://<64 hex>``: a local directory (:class:`ResultStore`; devnets, one machine).
  Writes are atomic (temp file + rename), so agent processes on one machine can share it.
- ``http(s)://host/blobs/<64 hex>``: an HTTP content service any operator runs (``accord
  results serve``, :mod:`accord.workflows.result_service`): PUT needs its bearer token, GET is
  open. :class:`HttpResultStore` publishes there, so a result stays reachable when the agent
  that produced it goes offline and agents of other machines and organisations read it.

- ``ipfs://<CID>``: a raw block on IPFS (:mod:`accord.ipfs`), published through an IPFS node's
  API (``--store ipfs+http://host:port``, ``accord results ipfs``) and read through the
  reader's own node or gateways (ACCORD_IPFS_GATEWAYS), from whichever peer holds it.

Every store's ``get`` resolves every scheme (a local store fetches an ``http`` URI too), and
nothing else: a URI comes off the chain, chosen by whoever submitted it, so it may name a blob
and never a local file or an arbitrary request. Every fetch is verified, against the hash its
URI names and the hash the chain recorded, and the two failures are told apart: a URI that
names another hash than the chain's is the submitter's lie (``ResultIntegrityError``: a judge
rejects), a blob that does not match its own URI is the store's fault
(``ResultUnavailableError``: a judge abstains rather than reject honest work).
"""

from __future__ import annotations

import os
from pathlib import Path

from accord.errors import ConfigError
from accord.workflows.blobs import (  # noqa: F401 (the store API, re-exported)
    FETCH_DEADLINE_S,
    FETCH_TIMEOUT_S,
    MAX_BLOB_BYTES,
    SCHEME,
    BlobStore,
    ResultIntegrityError,
    ResultNotFoundError,
    ResultUnavailableError,
    content_hash,
    download,
    uri_for,
)

HTTP_SCHEMES = ("http://", "https://")
IPFS_SCHEME = "ipfs://"
#: A ``--store`` naming an IPFS node's API (``accord results ipfs``) to publish to.
IPFS_STORE_SCHEMES = ("ipfs+http://", "ipfs+https://")
#: Optional, comma-separated: the only result services (``scheme://host[:port]``) this
#: machine fetches from. A URI is chosen by whoever submits a result, so an operator whose
#: agents can reach private addresses names the services it trusts for availability here.
ORIGINS_ENV = "ACCORD_RESULT_ORIGINS"
#: The environment variable holding an HTTP result service's bearer token (PUT only).
TOKEN_ENV = "ACCORD_RESULTS_TOKEN"  # noqa: S105 (a variable name, not a secret)


class ResultStore:
    """Blobs under ``root/<first 2 hex>/<64 hex>``."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path_of(self, hexdigest: str) -> Path:
        """Where the blob of `hexdigest` (64 lower-case hex) is, or would be, kept."""
        return self.root / hexdigest[:2] / hexdigest

    def put(self, data: bytes) -> tuple[bytes, str]:
        """Store ``data``; returns (hash, ``accord-store://`` URI). Idempotent."""
        digest = content_hash(data)
        path = self.path_of(digest.hex())
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{id(data)}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return digest, uri_for(digest)

    def get(self, uri: str, expected_hash: bytes | None = None) -> bytes:
        """The blob ``uri`` names (``accord-store://`` here, ``http(s)://`` from its
        service), checked against the hash the URI names and ``expected_hash`` (the on-chain
        commitment) when given."""
        if uri == "":
            return self._checked(uri, b"", expected_hash)
        if uri.startswith(HTTP_SCHEMES):
            named = blob_hash_of(uri)
            self._agrees(uri, named, expected_hash)
            return fetch_http(uri)
        if uri.startswith(IPFS_SCHEME):
            from accord.ipfs.store import fetch_ipfs

            return self._checked(uri, fetch_ipfs(uri), expected_hash)
        if not uri.startswith(SCHEME):
            raise ResultNotFoundError(f"cannot fetch '{uri[:80]}': Accord resolves {SCHEME}, "
                                      "http(s)://.../blobs/<hash> and ipfs://<CID> URIs only")
        hexdigest = uri[len(SCHEME):].lower()
        if len(hexdigest) != 64 or any(c not in "0123456789abcdef" for c in hexdigest):
            raise ResultNotFoundError(f"malformed store URI '{uri[:80]}'; expected "
                                      f"{SCHEME}<64 hex>")
        named = bytes.fromhex(hexdigest)
        self._agrees(uri, named, expected_hash)
        path = self.path_of(hexdigest)
        try:
            if path.stat().st_size > MAX_BLOB_BYTES:
                raise ResultUnavailableError(f"'{uri}' is larger than {MAX_BLOB_BYTES} bytes")
            data = path.read_bytes()
        except OSError as exc:
            raise ResultNotFoundError(f"'{uri}' is not in the result store at {self.root}; "
                                      "agents on other machines need an HTTP result service "
                                      "('accord results serve', then --store http://...)"
                                      ) from exc
        if content_hash(data) != named:
            raise ResultUnavailableError(
                f"'{uri}' holds a blob hashing to 0x{content_hash(data).hex()}, not the one its "
                "URI names; the blob was altered or mislabelled")
        return data

    @staticmethod
    def _agrees(uri: str, named: bytes, expected_hash: bytes | None) -> None:
        """The URI's hash is the chain's: else the submitter named a blob it did not commit."""
        if expected_hash is not None and named != bytes(expected_hash):
            raise ResultIntegrityError(
                f"'{uri}' names 0x{named.hex()} but the chain recorded "
                f"0x{bytes(expected_hash).hex()}; the URI does not match the commitment")

    @staticmethod
    def _checked(uri: str, data: bytes, expected_hash: bytes | None) -> bytes:
        if not uri and (expected_hash is None or not any(expected_hash)):
            return data  # no input at all: empty URI, zero hash
        if expected_hash is not None and content_hash(data) != bytes(expected_hash):
            raise ResultIntegrityError(
                f"'{uri}' hashes to 0x{content_hash(data).hex()} but the chain recorded "
                f"0x{bytes(expected_hash).hex()}; the blob was altered or mislabelled")
        return data


def blob_hash_of(uri: str) -> bytes:
    """The content hash an ``http(s)://host[:port][/prefix]/blobs/<64 hex>`` URI names. A URI
    with credentials, a query or a fragment is refused: a result URI is chosen by whoever
    submits the result, so it may only name a blob, never an arbitrary request."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(uri)
        hostname, port = parts.hostname, parts.port  # port: a ValueError when malformed
    except ValueError:
        hostname, port = None, None
        parts = urlsplit("")
    del port
    _, sep, hexdigest = parts.path.rpartition("/blobs/")
    if (parts.scheme not in ("http", "https") or not hostname or parts.username
            or parts.password or parts.query or parts.fragment or not sep
            or len(hexdigest) != 64 or any(c not in "0123456789abcdef" for c in hexdigest)):
        raise ResultNotFoundError(f"cannot fetch '{uri[:80]}': an HTTP result URI is "
                                  "http(s)://host[:port][/prefix]/blobs/<64 lower-case hex> "
                                  "(the blob's keccak256), with no query or credentials")
    return bytes.fromhex(hexdigest)


def _origin(scheme: str, host: str, port: int | None) -> str:
    return f"{scheme}://{host.lower()}:{port or (443 if scheme == 'https' else 80)}"


def allowed_origins() -> set[str] | None:
    """The result services ACCORD_RESULT_ORIGINS allows (None: any)."""
    from urllib.parse import urlsplit

    listed = [o.strip() for o in os.environ.get(ORIGINS_ENV, "").split(",") if o.strip()]
    if not listed:
        return None
    found = set()
    for item in listed:
        parts = urlsplit(item)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{ORIGINS_ENV}: '{item}' is not an http(s)://host[:port] origin")
        found.add(_origin(parts.scheme, parts.hostname, parts.port))
    return found


def fetch_http(uri: str) -> bytes:
    """The blob an HTTP result service holds at ``uri``, checked against the hash the URI
    names (the caller checks the chain's). At most MAX_BLOB_BYTES within FETCH_DEADLINE_S, no
    redirects, no credentials from the environment (.netrc) sent to a host a URI chose."""
    from urllib.parse import urlsplit

    named = blob_hash_of(uri)
    allowed = allowed_origins()
    if allowed is not None:
        parts = urlsplit(uri)
        if _origin(parts.scheme, parts.hostname or "", parts.port) not in allowed:
            raise ResultNotFoundError(f"'{uri[:80]}' is not on a result service this machine "
                                      f"fetches from ({ORIGINS_ENV})")
    data = download(uri, "the result service", MAX_BLOB_BYTES)
    if content_hash(data) != named:
        raise ResultUnavailableError(
            f"'{uri}' served a blob hashing to 0x{content_hash(data).hex()}, not the "
            f"0x{named.hex()} its URI names; the service is faulty or lying")
    return data


class HttpResultStore:
    """Publishes to an HTTP result service (``accord results serve``); reads any scheme.

    ``put`` sends the blob with the service's bearer token and checks the hash it answers;
    a copy is kept in ``cache`` (a local store), so this process never fetches back what it
    published."""

    def __init__(self, base_url: str, token: str, cache: ResultStore) -> None:
        if not base_url.startswith(HTTP_SCHEMES):
            raise ConfigError(f"result service URL '{base_url}' must start with http(s)://")
        if not token:
            raise ConfigError(f"no token for the result service {base_url}: set {TOKEN_ENV} "
                              "to the token it was started with")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.cache = cache

    def put(self, data: bytes) -> tuple[bytes, str]:
        import requests

        digest, _ = self.cache.put(data)
        url = f"{self.base_url}/blobs"
        try:
            resp = requests.put(url, data=data, timeout=FETCH_TIMEOUT_S, allow_redirects=False,
                                headers={"Authorization": f"Bearer {self.token}",
                                         "Content-Type": "application/octet-stream"})
        except requests.RequestException as exc:
            raise ResultNotFoundError(f"cannot publish to the result service {url} "
                                      f"({type(exc).__name__}); is it up?") from None
        if resp.status_code == 401:
            raise ConfigError(f"the result service {url} refused the token in {TOKEN_ENV}; "
                              "use the token it was started with")
        if resp.status_code != 201:
            raise ResultNotFoundError(f"the result service {url} answered {resp.status_code} "
                                      f"to a {len(data)}-byte blob: {resp.text[:200]}")
        try:
            answer = resp.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ResultNotFoundError(f"the result service {url} answered something that is "
                                      "not its JSON receipt; is the URL a result service?")
        if answer.get("hash") != "0x" + digest.hex():
            raise ResultIntegrityError(f"the result service {url} stored the blob under "
                                       f"{answer.get('hash')}, not 0x{digest.hex()}")
        return digest, f"{self.base_url}/blobs/{digest.hex()}"

    def get(self, uri: str, expected_hash: bytes | None = None) -> bytes:
        if uri.startswith(HTTP_SCHEMES) and uri.startswith(self.base_url + "/blobs/"):
            try:  # published by this process: read back from its own copy
                return self.cache.get(uri_for(blob_hash_of(uri)), expected_hash)
            except ResultNotFoundError:
                pass
        return self.cache.get(uri, expected_hash)


def open_store(spec: str | None) -> BlobStore:
    """The store a ``--store`` / ``store:`` value names: an ``http(s)://`` result service
    (token in ACCORD_RESULTS_TOKEN), an ``ipfs+http(s)://`` IPFS node's API (token in
    ACCORD_IPFS_TOKEN), each with a local cache in the state directory; a directory; or
    (None) the default local store."""
    if spec and spec.startswith(IPFS_STORE_SCHEMES):
        from accord.ipfs.node import TOKEN_ENV as IPFS_TOKEN_ENV
        from accord.ipfs.store import IpfsResultStore

        return IpfsResultStore(spec.removeprefix("ipfs+"), os.environ.get(IPFS_TOKEN_ENV, ""),
                               default_store())
    if spec and spec.startswith(HTTP_SCHEMES):
        return HttpResultStore(spec, os.environ.get(TOKEN_ENV, ""), default_store())
    return ResultStore(spec) if spec else default_store()


def default_store() -> ResultStore:
    from accord.paths import state_dir

    return ResultStore(state_dir() / "results")
