"""Results on IPFS: publish a blob to an IPFS node as one raw block (``ipfs://<CID>``) and
read ``ipfs://`` URIs through IPFS nodes or trustless gateways, each copy checked against its
CID (the gateway's honesty) and, by the caller, against the chain's keccak256 (the
submitter's).

Which nodes a machine reads through is the operator's choice, never the URI's: the store's own
node first, then ACCORD_IPFS_GATEWAYS (comma-separated ``http(s)://host[:port]``). A node
fetches a block it lacks from its connected peers over bitswap, so a result stays reachable
while any peer (a pinning node, another operator's node) holds it."""

from __future__ import annotations

import hashlib
import os

from accord.errors import ConfigError
from accord.ipfs.cid import CidError, cid_of_uri, raw_cid, sha256_of
from accord.workflows.blobs import (
    FETCH_TIMEOUT_S,
    BlobStore,
    ResultIntegrityError,
    ResultNotFoundError,
    ResultUnavailableError,
    content_hash,
    download,
    uri_for,
)

GATEWAYS_ENV = "ACCORD_IPFS_GATEWAYS"
#: One raw block; bitswap moves blocks of up to 2 MiB. Larger results go to an HTTP service.
MAX_BLOCK_BYTES = 1024 * 1024


def gateways() -> list[str]:
    """The IPFS nodes / trustless gateways ACCORD_IPFS_GATEWAYS names, in order."""
    found = []
    for item in os.environ.get(GATEWAYS_ENV, "").split(","):
        item = item.strip().rstrip("/")
        if not item:
            continue
        if not item.startswith(("http://", "https://")):
            raise ConfigError(f"{GATEWAYS_ENV}: '{item}' is not an http(s)://host[:port] IPFS "
                              "node or gateway")
        found.append(item)
    return found


def fetch_ipfs(uri: str, nodes: list[str] | None = None, token: str | None = None) -> bytes:
    """The bytes ``ipfs://<CID>`` names, from the first of ``nodes`` then ACCORD_IPFS_GATEWAYS
    that serves a copy matching the CID. ``token`` goes to ``nodes`` only (this operator's own
    node, which then fetches from its peers), never to the gateways. ResultNotFoundError when
    nobody has it; ResultUnavailableError when the only copies served were wrong (the
    gateway's fault, never the submitter's)."""
    try:
        cid = cid_of_uri(uri)
    except CidError as exc:
        raise ResultNotFoundError(f"cannot fetch '{uri[:80]}': {exc}") from None
    want = sha256_of(cid)
    own = list(nodes or [])
    sources = [*own, *gateways()]
    if not sources:
        raise ResultNotFoundError(f"cannot fetch '{uri}': this machine reads IPFS through no "
                                  f"node; set {GATEWAYS_ENV} to your IPFS node ('accord "
                                  "results ipfs') or publish with --store ipfs+http://...")
    failures: list[str] = []
    lied = False
    for base in sources:
        try:
            auth = {"Authorization": f"Bearer {token}"} if token and base in own else None
            data = download(f"{base}/ipfs/{cid}?format=raw", f"the IPFS node {base}",
                            MAX_BLOCK_BYTES, label=uri, headers=auth)
        except ResultNotFoundError as exc:  # includes too large / too slow
            lied = lied or isinstance(exc, ResultUnavailableError)
            failures.append(str(exc))
            continue
        if hashlib.sha256(data).digest() != want:
            lied = True
            failures.append(f"{base} served {len(data)} bytes that are not {cid}")
            continue
        return data
    error = ResultUnavailableError if lied else ResultNotFoundError
    raise error(f"cannot fetch '{uri}': " + "; ".join(failures))


class IpfsResultStore:
    """Publishes to an IPFS node's API (``accord results ipfs``); reads every scheme.

    ``put`` stores the blob as one raw block with the node's bearer token and checks the CID
    it answers against the one computed here; a copy is kept in ``cache`` (a local store), so
    this process never fetches back what it published."""

    def __init__(self, api_url: str, token: str, cache: BlobStore) -> None:
        from accord.ipfs.node import TOKEN_ENV

        if not api_url.startswith(("http://", "https://")):
            raise ConfigError(f"IPFS node API '{api_url}' must start with http(s)://")
        if not token:
            raise ConfigError(f"no token for the IPFS node {api_url}: set {TOKEN_ENV} to the "
                              "token it was started with")
        self.api = api_url.rstrip("/")
        self.token = token
        self.cache = cache

    def put(self, data: bytes) -> tuple[bytes, str]:
        import requests

        from accord.ipfs.node import TOKEN_ENV

        if len(data) > MAX_BLOCK_BYTES:
            raise ConfigError(f"a {len(data)}-byte blob is over the {MAX_BLOCK_BYTES}-byte IPFS "
                              "block Accord publishes; use an HTTP result service (--store "
                              "http://...) for results this large")
        digest, _ = self.cache.put(data)
        cid = raw_cid(data)
        url = f"{self.api}/blocks"
        try:
            resp = requests.post(url, data=data, timeout=FETCH_TIMEOUT_S,
                                 allow_redirects=False,
                                 headers={"Authorization": f"Bearer {self.token}",
                                          "Content-Type": "application/octet-stream"})
        except requests.RequestException as exc:
            raise ResultNotFoundError(f"cannot publish to the IPFS node {self.api} "
                                      f"({type(exc).__name__}); is it up?") from None
        if resp.status_code == 401:
            raise ConfigError(f"the IPFS node {self.api} refused the token in {TOKEN_ENV}; use "
                              "the token it was started with")
        if resp.status_code != 201:
            raise ResultNotFoundError(f"the IPFS node {self.api} answered {resp.status_code} to"
                                      f" a {len(data)}-byte blob: {resp.text[:200]}")
        try:
            answered = resp.json().get("cid")
        except (ValueError, AttributeError):
            answered = None
        if answered != cid:
            raise ResultIntegrityError(f"the IPFS node {self.api} stored the blob as "
                                       f"{answered!r}, not {cid}; is the URL an Accord IPFS node?")
        return digest, f"ipfs://{cid}"

    def pin(self, uri: str) -> None:
        """Make this operator's node fetch ``ipfs://<CID>`` from its peers and keep it (a copy
        that outlives the node that published it). ResultNotFoundError when no peer had it."""
        import requests

        try:
            cid = cid_of_uri(uri)
        except CidError as exc:
            raise ResultNotFoundError(f"cannot pin '{uri[:80]}': {exc}") from None
        try:
            resp = requests.post(f"{self.api}/pins/{cid}", timeout=FETCH_TIMEOUT_S,
                                 allow_redirects=False,
                                 headers={"Authorization": f"Bearer {self.token}"})
        except requests.RequestException as exc:
            raise ResultNotFoundError(f"cannot pin {uri} on the IPFS node {self.api} "
                                      f"({type(exc).__name__}); is it up?") from None
        if resp.status_code != 200:
            raise ResultNotFoundError(f"the IPFS node {self.api} could not pin {uri} "
                                      f"({resp.status_code}: {resp.text[:200]})")

    def get(self, uri: str, expected_hash: bytes | None = None) -> bytes:
        if not uri.startswith("ipfs://"):
            return self.cache.get(uri, expected_hash)
        if expected_hash is not None and any(expected_hash):
            try:  # a copy this machine already holds, if it is the block the URI names
                data = self.cache.get(uri_for(bytes(expected_hash)), expected_hash)
                if raw_cid(data) == cid_of_uri(uri):
                    return data
            except (ResultNotFoundError, CidError):
                pass
        data = fetch_ipfs(uri, [self.api], self.token)
        if expected_hash is not None and content_hash(data) != bytes(expected_hash):
            raise ResultIntegrityError(
                f"'{uri}' holds a blob hashing to 0x{content_hash(data).hex()} but the chain "
                f"recorded 0x{bytes(expected_hash).hex()}; the URI does not match the "
                "commitment")
        self.cache.put(data)
        return data
