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

import ipaddress
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from eth_keys import keys
from eth_keys.exceptions import BadSignature, ValidationError

from accord.chain.client import Client
from accord.crosschain import messages
from accord.crosschain.announce import discover
from accord.crosschain.attestation_store import AttestationStore
from accord.crosschain.attester import Attester, window_key
from accord.crosschain.messages import to_checksum_address
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


#: secp256k1's group order: a signature with s above half of it is not canonical (the
#: gateway, like OpenZeppelin's ECDSA, refuses it), so a relayer must not count it.
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _recover(digest: bytes, signature: str) -> str | None:
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
        if len(raw) != 65 or raw[64] not in (27, 28):
            return None
        r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big")
        if not 0 < s <= _N // 2:
            return None
        sig = keys.Signature(vrs=(raw[64] - 27, r, s))
        return str(sig.recover_public_key_from_msg_hash(digest).to_checksum_address())
    except (ValueError, BadSignature, ValidationError):
        return None


def check_source_location(location: str, *, allow_private: bool) -> str | None:
    """Why a relayer must not fetch from ``location`` (None: it may). Only a plain http(s)
    URL, with no user info, query or fragment (which would let the attester choose the path a
    relayer requests), at a public host unless ``allow_private`` (devnets)."""
    try:
        url = urllib.parse.urlsplit(location)
        host = url.hostname or ""
    except ValueError as exc:
        return f"not a URL ({exc})"
    if url.scheme not in ("http", "https") or not host:
        return "not an http(s) URL"
    if url.username or url.password or url.query or url.fragment or "?" in location \
            or "#" in location:
        return "user info, a query or a fragment"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
        if host == "localhost" and not allow_private:
            return "a loopback host"
    if ip is not None and (ip.is_unspecified or ip.is_multicast or (not allow_private and (
            ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved))):
        return f"a non-public address ({host})"
    return None


@dataclass(frozen=True)
class _Answer:
    """What one request got: a body, an HTTP error status, or a transport error."""

    body: bytes | None = None
    status: int | None = None
    error: str | None = None


@dataclass
class Fetcher:
    """Fills a relayer's own store with the attestations it needs, fetched from each
    source and verified before anything is stored: a message's signature against its id, a
    window's against the root of the window as the relayer's own store holds it (so every
    stored window signature is over the one member list the relayer will send). Nothing a
    source does can stop the others: every failure is caught per source and key, a request
    has an overall deadline, a failing source and a key a source has not signed are asked
    again only after a backoff, and a pass stops asking after ``pass_budget_s``."""

    store: AttestationStore
    sources: list[Source]
    origin_chain: int
    origin_gateway: str
    route: str = ""
    window: int = 50
    timeout_s: float = 2.0
    pass_budget_s: float = 5.0
    allow_private: bool = False
    threshold: int = 0  # attesters a key needs; 0: ask every source
    parallel: int = 8  # requests in flight at once
    rejected: Counter[str] = field(default_factory=Counter)  # attester -> bad answers
    unreachable: Counter[str] = field(default_factory=Counter)  # attester -> failed fetches
    _later: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    _down: dict[Source, tuple[float, float]] = field(default_factory=dict)
    _executor: ThreadPoolExecutor | None = None

    def _download(self, source: Source, key: str) -> _Answer:
        """``key`` from ``source``: the body, or why not. Runs on the fetcher's worker
        threads, so it changes no state; :meth:`_judge` does, on the caller's thread."""
        url = f"{source.location.rstrip('/')}/attestations/{urllib.parse.quote(key, safe='')}"
        deadline = time.monotonic() + self.timeout_s
        try:
            with _OPENER.open(url, timeout=self.timeout_s) as reply:
                data = b""
                while len(data) <= MAX_BODY:  # an overall deadline, not one per read
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"no whole answer within {self.timeout_s} s")
                    chunk = reply.read1(4096)
                    if not chunk:
                        break
                    data += chunk
        except urllib.error.HTTPError as exc:
            return _Answer(status=exc.code)
        except Exception as exc:  # noqa: BLE001 (down, slow, refused, a malformed answer)
            return _Answer(error=str(exc) or type(exc).__name__)
        return _Answer(body=data)

    def _judge(self, source: Source, key: str, answer: _Answer) -> str | None:
        """The signature ``answer`` carries, or None with the source's record updated: a 404
        (not signed yet) asked again later, a failure backs the source off, anything
        malformed is counted as rejected."""
        if answer.status == 404:  # not signed (yet) by this attester: ask again later
            self._later_key(source, key)
            return None
        if answer.status is not None:
            self._failed(source, f"HTTP {answer.status}")
            return None
        if answer.error is not None:
            self._failed(source, answer.error)
            return None
        data = answer.body or b""
        self._down.pop(source, None)
        if len(data) > MAX_BODY:
            self._reject(source, key, f"an answer over {MAX_BODY} bytes")
            return None
        try:
            body: Any = json.loads(data)
        except (ValueError, RecursionError):
            self._reject(source, key, "an answer that is not JSON")
            return None
        value = body.get("value") if isinstance(body, dict) else None
        if not isinstance(value, str) or body.get("key") != key:
            self._reject(source, key, "a malformed answer")
            return None
        return value

    def _later_key(self, source: Source, key: str) -> None:
        """Ask ``source`` for ``key`` again after a pause doubling from 0.5 s to 8 s (a key
        not signed yet is usually signed soon; a bad answer is not worth asking often)."""
        slot = (to_checksum_address(source.attester), key)
        _, pause = self._later.get(slot, (0.0, 0.5))
        self._later[slot] = (time.monotonic() + pause, min(pause * 2, 8.0))

    def _failed(self, source: Source, why: str) -> None:
        self.unreachable[source.attester] += 1
        _, pause = self._down.get(source, (0.0, 1.0))
        self._down[source] = (time.monotonic() + pause, min(pause * 2, 60.0))
        log.debug("attester %s at %s: %s; asked again in %.0f s", source.attester,
                  source.location, why, pause)

    def _reject(self, source: Source, key: str, why: str) -> None:
        self.rejected[source.attester] += 1
        self._later_key(source, key)
        log.warning("attester %s at %s served %s for %s; ignored", source.attester,
                    source.location, why, key)

    def fetch(self, keys_: list[str]) -> int:
        """Fetch and verify ``keys_`` (message ids and window keys) from the sources that have
        not given them yet, until ``threshold`` attesters have (0: from every source);
        returns how many attestations were stored. Requests go out ``parallel`` at a time,
        in rounds: each key asks as many sources as it still needs, in the sources' order,
        and the next round asks further sources only for the keys a round left short."""
        stored = 0
        stop = time.monotonic() + self.pass_budget_s
        wanted = set(keys_)  # forget the pauses of keys no longer wanted (delivered)
        self._later = {slot: v for slot, v in self._later.items() if slot[1] in wanted}
        have = {key: {to_checksum_address(s) for s in self.store.attestations(key)}
                for key in keys_}
        views: dict[str, tuple[bytes, str] | None] = {}
        asked: set[tuple[str, Source]] = set()
        while time.monotonic() < stop:
            asks = self._round(keys_, have, views, asked)
            if not asks:
                break
            answers = self._pool().map(lambda a: self._download(a[0], a[2]), asks)
            failed: set[Source] = set()  # a source that fails counts once per round
            for (source, attester, key), answer in zip(asks, answers, strict=True):
                if answer.body is None and answer.status != 404:
                    if source in failed:
                        continue
                    failed.add(source)
                view = views[key]
                try:
                    if view is not None and self._one(source, attester, key, view, answer):
                        stored += 1
                        have[key].add(attester)
                except Exception as exc:  # noqa: BLE001 (one source never stops the others)
                    self._failed(source, f"{type(exc).__name__}: {exc}")
        return stored

    def _round(self, keys_: list[str], have: dict[str, set[str]],
               views: dict[str, tuple[bytes, str] | None], asked: set[tuple[str, Source]]
               ) -> list[tuple[Source, str, str]]:
        """``(source, attester, key)`` to ask next: per key, as many sources as it still
        needs among those not asked this pass, not backing off and allowed by location."""
        now = time.monotonic()
        asks: list[tuple[Source, str, str]] = []
        for key in keys_:
            need = (self.threshold or len(self.sources)) - len(have[key])
            for source in self.sources:
                if need <= 0:
                    break
                attester = to_checksum_address(source.attester)
                if attester in have[key] or (key, source) in asked \
                        or self._down.get(source, (0.0, 0.0))[0] > now \
                        or self._later.get((attester, key), (0.0, 0.0))[0] > now:
                    continue
                asked.add((key, source))
                why = check_source_location(source.location, allow_private=self.allow_private)
                if why is not None:
                    self._reject(source, key, f"an announced location that is {why} "
                                              f"({source.location!r})")
                    continue
                if key not in views:
                    views[key] = self._view(key)
                if views[key] is None:
                    break  # a window this relayer has not seen whole yet
                asks.append((source, attester, key))
                need -= 1
        return asks

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.parallel, thread_name_prefix="fetch")
        return self._executor

    def _view(self, key: str) -> tuple[bytes, str] | None:
        """What an attester must have signed for ``key`` as this relayer sees it: the digest,
        and for a window its member list (None: no member of the window is stored yet)."""
        if key.startswith(_WINDOW):
            k = int(key.rsplit(":", 1)[1])
            members = self.store.window_ids(  # type: ignore[attr-defined]
                self.route, k * self.window, (k + 1) * self.window)
            if not members:
                return None
            ids = [bytes.fromhex(m[2:]) for m in members]
            return (messages.attestation_digest(self.origin_chain, self.origin_gateway,
                                                messages.batch_root(ids), batch=True),
                    ",".join(members))
        return (messages.attestation_digest(self.origin_chain, self.origin_gateway,
                                            bytes.fromhex(key.removeprefix("0x")), batch=False),
                "")

    def _one(self, source: Source, attester: str, key: str, view: tuple[bytes, str],
             answer: _Answer) -> bool:
        digest, listed = view
        signature = self._judge(source, key, answer)
        if signature is None:
            return False
        if _recover(digest, signature) != attester:
            self._reject(source, key, "a signature that is not its own over this relayer's "
                                      "view of it")
            return False
        rows = [(key, attester, signature)]
        if key.startswith(_WINDOW):
            rows.append((key + ":ids", attester, listed))  # the relayer's own member list
        self.store.put_attestations(rows)
        return True


class Sources(list[Source]):
    """Announced sources, and how many validators of the set announced nothing (yet)."""

    silent: int = 0


def announced_sources(origin: Client, announce_contract: str, dest: Client, dest_gateway: str
                      ) -> Sources:
    """The origin's current validator set (from the destination gateway, which checks their
    signatures) with the locations they announced on the origin chain, in the set's order;
    validators that announced nothing are left out and counted in ``silent``."""
    validators = [str(v) for v in dest.contract("AccordGateway", dest_gateway).functions
                  .validators(origin.chain_id).call()]
    found = discover(origin, announce_contract, validators)
    sources = Sources(Source(a, loc) for a, loc in found.items())
    sources.silent = len(validators) - len(sources)
    return sources


@dataclass
class Feed:
    """What a relayer on its own machine runs before each delivery pass: it follows the
    origin gateway itself (``observer``, an Attester without a key) and fetches the
    attestations of the messages still to deliver from the attesters' announced locations
    (``sources()``, read again every ``refresh_s``; while fewer than ``threshold`` attesters
    are known, or some validator of the set has announced nothing yet, after a pause that
    doubles from 2 s up to ``refresh_s``: an attester that starts late is asked soon)."""

    observer: Attester
    fetcher: Fetcher
    route: str
    window: int
    threshold: int
    sources: Callable[[], list[Source]]
    refresh_s: float = 30.0
    chunk: int = 200  # messages recorded between fetches while following a backlog
    _next_refresh: float = -1e9
    _pause: float = 2.0

    def __post_init__(self) -> None:
        if not self.fetcher.threshold:  # enough signatures per key; the rest are not asked
            self.fetcher.threshold = self.threshold

    def keys(self, limit: int = 10_000, singles: bool = True) -> list[str]:
        """The window keys of the messages still to deliver, and (``singles``) the ids of
        those in windows the origin has not closed yet (only those are ever signed singly)."""
        store: Any = self.fetcher.store
        pending = store.pending_ids(self.route, limit)
        closed_below = (store.max_nonce(self.fetcher.origin_chain) + 1) // self.window
        windows = sorted({nonce // self.window for _, nonce in pending})
        open_ = [mid for mid, nonce in pending if singles and nonce // self.window >= closed_below]
        return [window_key(self.route, k) for k in windows if k < closed_below] + open_

    def _refresh(self) -> None:
        now = time.monotonic()
        if now < self._next_refresh:
            return
        try:
            self.fetcher.sources = self.sources()
        except Exception as exc:  # noqa: BLE001 (the node or the announce contract; retried)
            log.warning("reading the attesters' announced locations failed: %s", exc)
        enough = len(self.fetcher.sources) >= self.threshold \
            and not getattr(self.fetcher.sources, "silent", 0)
        self._pause = self.refresh_s if enough else min(self._pause * 2, self.refresh_s)
        self._next_refresh = now + (self.refresh_s if enough else self._pause)

    def step(self) -> int:
        """Follow the origin one poll, then fetch what is missing; returns what was stored.
        A poll that finds a backlog fetches after every ``chunk`` messages it records, so
        delivery starts before the whole backlog is read."""
        self._refresh()
        stored = 0

        def fetch(singles: bool = True) -> None:
            nonlocal stored
            stored += self.fetcher.fetch(self.keys(singles=singles))

        # mid-poll, the newest window is only partly recorded: not open, not signed singly
        self.observer.poll_once(between=lambda: fetch(singles=False), chunk=self.chunk)
        fetch()
        return stored
