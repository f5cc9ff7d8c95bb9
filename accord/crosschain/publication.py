"""Attestations across machines: an attester publishes what it signed over HTTP, a relayer
fetches and verifies it.

An attester serves its own signatures from its own store, ``GET /attestations/<key>`` (``key``
a message id, or a window key and its ``:ids`` member list), at the location it announces on
chain (:mod:`accord.crosschain.announce`). A relayer fetches each key from every attester of
the origin's validator set, verifies every signature against the attester it claims to come
from before it stores it, and keeps going when an attester is down, slow or serving garbage:
a quorum of honest attesters is enough. Nothing an attester serves is trusted: a signature
that does not recover to its attester is counted (``rejected``) and dropped.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from eth_keys import keys
from eth_keys.exceptions import BadSignature, ValidationError
from eth_utils import to_checksum_address

from accord.chain.client import Client
from accord.crosschain import messages
from accord.crosschain.announce import discover
from accord.crosschain.attestation_store import AttestationStore
from accord.crosschain.attester import Attester, window_key
from accord.service.http import BackgroundHttpServer

log = logging.getLogger("accord.publication")

#: Most bytes a relayer reads of one attestation (a window's id list included).
MAX_BODY = 64 * 1024
_WINDOW = "window:"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """An attester's location is chosen by the attester: it may not send a relayer elsewhere
    (an internal address) by redirecting."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


def attestation_app(store: AttestationStore, attester: str) -> web.Application:
    """The attester's publication: its own signature (or a window's member ids) per key."""
    me = to_checksum_address(attester)

    async def get(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        mine = {to_checksum_address(s): v for s, v in store.attestations(key).items()}
        if me not in mine:
            return web.json_response({"error": f"no attestation for {key}"}, status=404)
        return web.json_response({"key": key, "signer": me, "value": mine[me]})

    app = web.Application()
    app.router.add_get("/attestations/{key}", get)
    return app


def serve_attestations(store: AttestationStore, attester: str, host: str = "127.0.0.1",
                       port: int = 0) -> BackgroundHttpServer:
    """Serve ``attestation_app`` on ``host:port`` (0: any free port); ``.start()`` returns
    the URL to announce."""
    return BackgroundHttpServer(lambda: attestation_app(store, attester), host, port,
                                name=f"attestations-{attester[:10]}")


@dataclass(frozen=True)
class Source:
    """One attester and the location it announced."""

    attester: str
    location: str


def _recover(digest: bytes, signature: str) -> str | None:
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
        if len(raw) != 65 or raw[64] not in (27, 28):
            return None
        r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big")
        sig = keys.Signature(vrs=(raw[64] - 27, r, s))
        return str(sig.recover_public_key_from_msg_hash(digest).to_checksum_address())
    except (ValueError, BadSignature, ValidationError):
        return None


def _ids(value: str) -> list[bytes] | None:
    try:
        ids = [bytes.fromhex(x.removeprefix("0x")) for x in value.split(",")]
    except ValueError:
        return None
    return ids if ids and all(len(i) == 32 for i in ids) else None


@dataclass
class Fetcher:
    """Fills a relayer's own store with the attestations it needs, fetched from each
    source and verified against the origin's attestation digest (``origin_chain``,
    ``origin_gateway``) before anything is stored."""

    store: AttestationStore
    sources: list[Source]
    origin_chain: int
    origin_gateway: str
    timeout_s: float = 2.0
    rejected: Counter[str] = field(default_factory=Counter)  # attester -> bad answers
    unreachable: Counter[str] = field(default_factory=Counter)  # attester -> failed fetches

    def _get(self, source: Source, key: str) -> str | None:
        if not source.location.startswith(("http://", "https://")):
            self._reject(source, key, f"an announced location that is not http(s) "
                                      f"({source.location!r})")
            return None
        url = f"{source.location.rstrip('/')}/attestations/{urllib.parse.quote(key, safe='')}"
        try:
            with _OPENER.open(url, timeout=self.timeout_s) as reply:
                data = reply.read(MAX_BODY + 1)
        except urllib.error.HTTPError as exc:
            if exc.code != 404:  # 404: not signed (yet) by this attester, not a fault
                self.unreachable[source.attester] += 1
            return None
        except (OSError, ValueError) as exc:  # down, slow, refused, a redirect not followed
            self.unreachable[source.attester] += 1
            log.debug("attester %s at %s: %s", source.attester, source.location, exc)
            return None
        if len(data) > MAX_BODY:
            self._reject(source, key, f"an answer over {MAX_BODY} bytes")
            return None
        try:
            body: Any = json.loads(data)
        except ValueError:
            self._reject(source, key, "an answer that is not JSON")
            return None
        value = body.get("value") if isinstance(body, dict) else None
        if not isinstance(value, str) or body.get("key") != key:
            self._reject(source, key, "a malformed answer")
            return None
        return value

    def _reject(self, source: Source, key: str, why: str) -> None:
        self.rejected[source.attester] += 1
        log.warning("attester %s at %s served %s for %s; ignored", source.attester,
                    source.location, why, key)

    def fetch(self, keys_: list[str]) -> int:
        """Fetch and verify ``keys_`` (message ids and window keys) from every source that has
        not given them yet; returns how many attestations were stored."""
        stored = 0
        for key in keys_:
            have = {to_checksum_address(s) for s in self.store.attestations(key)}
            for source in self.sources:
                attester = to_checksum_address(source.attester)
                if attester in have:
                    continue
                stored += self._one(source, attester, key)
        return stored

    def _one(self, source: Source, attester: str, key: str) -> int:
        signature = self._get(source, key)
        if signature is None:
            return 0
        if key.startswith(_WINDOW):
            listed = self._get(source, key + ":ids")
            ids = _ids(listed) if listed is not None else None
            if ids is None:
                self._reject(source, key, "a window without a valid member list")
                return 0
            digest = messages.attestation_digest(self.origin_chain, self.origin_gateway,
                                                 messages.batch_root(ids), batch=True)
            rows = [(key, attester, signature), (key + ":ids", attester, str(listed))]
        else:
            try:
                message_id = bytes.fromhex(key.removeprefix("0x"))
            except ValueError:
                return 0
            digest = messages.attestation_digest(self.origin_chain, self.origin_gateway,
                                                 message_id, batch=False)
            rows = [(key, attester, signature)]
        if _recover(digest, signature) != attester:
            self._reject(source, key, "a signature that is not its own")
            return 0
        self.store.put_attestations(rows)
        return 1


def announced_sources(origin: Client, announce_contract: str, dest: Client, dest_gateway: str
                      ) -> list[Source]:
    """The origin's current validator set (from the destination gateway, which checks their
    signatures) with the locations they announced on the origin chain; validators that
    announced nothing are left out."""
    validators = [str(v) for v in dest.contract("AccordGateway", dest_gateway).functions
                  .validators(origin.chain_id).call()]
    found = discover(origin, announce_contract, validators)
    return [Source(a, loc) for a, loc in found.items()]


@dataclass
class Feed:
    """What a relayer on its own machine runs before each delivery pass: it follows the
    origin gateway itself (``observer``, an Attester without a key) and fetches the
    attestations of the messages still to deliver from the attesters' announced locations
    (``sources()``, read again every ``refresh_s`` and whenever fewer than ``threshold``
    attesters are known)."""

    observer: Attester
    fetcher: Fetcher
    route: str
    window: int
    threshold: int
    sources: Callable[[], list[Source]]
    refresh_s: float = 30.0
    _refreshed: float = -1e9

    def keys(self, limit: int = 2_000) -> list[str]:
        """The message ids and window keys of the messages still to deliver."""
        pending = self.fetcher.store.pending(self.route, limit)  # type: ignore[attr-defined]
        windows = {window_key(self.route, m.nonce // self.window) for m in pending}
        return [m.id for m in pending] + sorted(windows)

    def step(self) -> int:
        """Follow the origin one poll, then fetch what is missing; returns what was stored."""
        now = time.monotonic()
        if now - self._refreshed >= self.refresh_s or len(self.fetcher.sources) < self.threshold:
            self.fetcher.sources = self.sources()
            self._refreshed = now
        self.observer.poll_once()
        return self.fetcher.fetch(self.keys())
