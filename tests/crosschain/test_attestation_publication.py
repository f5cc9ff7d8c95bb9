"""Attesters publish their signatures over HTTP; a relayer fetches them into its own store and
trusts none it has not verified: a lying, garbled, redirecting or dead attester changes
nothing but its own counters."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from eth_keys.datatypes import PrivateKey

from accord.crosschain import messages
from accord.crosschain.attestation_store import SqliteStore, StoredMessage
from accord.crosschain.publication import (
    _N,
    Feed,
    Fetcher,
    Source,
    Sources,
    attestation_app,
    check_source_location,
    serve_attestations,
)
from accord.service.http import BackgroundHttpServer

ORIGIN, GATEWAY = 31337001, "0x" + "ab" * 20
ROUTE = "31337001->31337002"
KEYS = [PrivateKey((0xFEED00 + i).to_bytes(32, "big")) for i in range(4)]
A, B, C, D = (k.public_key.to_checksum_address() for k in KEYS)
M1, M2 = "0x" + "11" * 32, "0x" + "22" * 32
WINDOW = f"window:{ROUTE}:0"


def _seen(store: SqliteStore, *ids: str) -> None:
    """The relayer's own follower saw ``ids`` (nonces 0, 1, ...) on the origin."""
    store.advance("observer", 1, "0x" + "00" * 32, [StoredMessage(
        id=i, route=ROUTE, origin_chain=ORIGIN, dest_chain=31337002, nonce=n, block=1,
        block_hash="0x" + "00" * 32, tx="0x" + "00" * 32, body={}, status="pending",
        attempts=0, seen_at=0.0) for n, i in enumerate(ids)])


def _high_s(signature: str) -> str:
    raw = bytes.fromhex(signature[2:])
    s = _N - int.from_bytes(raw[32:64], "big")
    return "0x" + (raw[:32] + s.to_bytes(32, "big") + bytes([55 - raw[64]])).hex()


def _sign(key: PrivateKey, id_or_root: bytes, batch: bool = False) -> str:
    sig = key.sign_msg_hash(messages.attestation_digest(ORIGIN, GATEWAY, id_or_root, batch=batch))
    return "0x" + (sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big")
                   + bytes([sig.v + 27])).hex()


def _store(tmp_path: Path, name: str) -> SqliteStore:
    return SqliteStore(tmp_path / f"{name}.sqlite")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A honest (A, a message and a window), a liar (B's name on C's signatures), a garbling
    and a redirecting attester, each on its own server."""
    honest = _store(tmp_path, "a")
    root = messages.batch_root([bytes.fromhex(M1[2:]), bytes.fromhex(M2[2:])])
    honest.put_attestations([(M1, A, _sign(KEYS[0], bytes.fromhex(M1[2:]))),
                             (WINDOW, A, _sign(KEYS[0], root, batch=True)),
                             (WINDOW + ":ids", A, f"{M1},{M2}")])
    liar = _store(tmp_path, "b")  # B signs other members, and passes C's work off as its own
    other_root = messages.batch_root([bytes.fromhex(M1[2:])])
    liar.put_attestations([(M1, B, _sign(KEYS[2], bytes.fromhex(M1[2:]))),
                           (WINDOW, B, _sign(KEYS[1], other_root, batch=True)),
                           (WINDOW + ":ids", B, M1)])

    def garbled() -> web.Application:
        async def oops(request: web.Request) -> web.Response:
            return web.Response(text="<html>oops")

        app = web.Application()
        app.router.add_get("/attestations/{key}", oops)
        return app

    def redirecting() -> web.Application:
        app = web.Application()

        async def go(request: web.Request) -> web.Response:
            raise web.HTTPFound("http://127.0.0.1:1/attestations/x")

        app.router.add_get("/attestations/{key}", go)
        return app

    running = [serve_attestations(honest, A), serve_attestations(liar, B),
               BackgroundHttpServer(garbled), BackgroundHttpServer(redirecting)]
    urls = [s.start() for s in running]
    yield dict(zip((A, B, C, D), urls, strict=True))
    for s in running:
        s.stop()


def test_a_relayer_stores_only_what_verifies_and_survives_every_bad_attester(
        tmp_path: Path, servers: dict[str, str]) -> None:
    relayer = _store(tmp_path, "relayer")
    _seen(relayer, M1, M2)
    dead = PrivateKey((0xDEAD).to_bytes(32, "big")).public_key.to_checksum_address()
    sources = [Source(a, url) for a, url in servers.items()]
    sources += [Source(dead, f"http://127.0.0.1:{_free_port()}"),
                Source(dead, "file:///etc/passwd")]
    fetcher = Fetcher(relayer, sources, ORIGIN, GATEWAY, route=ROUTE, window=2, timeout_s=2.0,
                      allow_private=True)
    assert fetcher.fetch([M1, WINDOW, M2]) == 2  # A's message and A's window
    assert relayer.attestations(M1) == {A: _sign(KEYS[0], bytes.fromhex(M1[2:]))}
    assert set(relayer.attestations(WINDOW)) == {A}
    assert relayer.attestations(WINDOW + ":ids") == {A: f"{M1},{M2}"}  # its own view
    assert relayer.attestations(M2) == {}  # nobody signed it alone: nothing to store
    # the liar's signatures are C's (message) and over other members (window): both refused
    assert fetcher.rejected[B] == 2
    assert fetcher.rejected[C] >= 1  # not JSON
    assert fetcher.rejected[dead] >= 1  # a file:// location is never opened
    assert fetcher.unreachable[D] >= 1 and fetcher.unreachable[dead] >= 1  # no redirect, down
    # a second pass asks only what is still missing (and not yet again what failed), and
    # stores nothing twice
    assert fetcher.fetch([M1, WINDOW]) == 0
    assert relayer.attestations(M1) == {A: _sign(KEYS[0], bytes.fromhex(M1[2:]))}


def test_an_attester_serves_only_its_own_signatures(tmp_path: Path) -> None:
    shared = _store(tmp_path, "shared")  # even a store holding others' rows
    shared.put_attestations([(M1, B, _sign(KEYS[1], bytes.fromhex(M1[2:])))])
    with serve_attestations(shared, A) as server:
        fetcher = Fetcher(_store(tmp_path, "r"), [Source(A, server.url)], ORIGIN, GATEWAY,
                          allow_private=True)
        assert fetcher.fetch([M1]) == 0
        assert fetcher.rejected[A] == 0 and fetcher.unreachable[A] == 0  # a plain 404


def test_a_non_canonical_signature_or_a_window_the_relayer_has_not_seen_is_not_stored(
        tmp_path: Path) -> None:
    """A high-s copy of a valid signature recovers, but the gateway refuses it: counting it
    would make every batch revert. A window signature is checked against the relayer's own
    view of the window, so one the relayer has not followed yet is simply not stored."""
    served = _store(tmp_path, "a")
    root = messages.batch_root([bytes.fromhex(M1[2:]), bytes.fromhex(M2[2:])])
    served.put_attestations([(M1, A, _high_s(_sign(KEYS[0], bytes.fromhex(M1[2:])))),
                             (WINDOW, A, _sign(KEYS[0], root, batch=True))])
    relayer = _store(tmp_path, "relayer")
    with serve_attestations(served, A) as server:
        fetcher = Fetcher(relayer, [Source(A, server.url)], ORIGIN, GATEWAY, route=ROUTE,
                          window=2, allow_private=True)
        assert fetcher.fetch([M1, WINDOW]) == 0
        assert fetcher.rejected[A] == 1  # the high-s one
        _seen(relayer, M1, M2)
        assert fetcher.fetch([WINDOW]) == 1


def test_a_source_that_hangs_or_breaks_http_costs_one_deadline_and_then_a_backoff(
        tmp_path: Path) -> None:
    def dripping() -> web.Application:
        async def drip(request: web.Request) -> web.StreamResponse:
            reply = web.StreamResponse()
            await reply.prepare(request)
            for _ in range(200):
                await reply.write(b" ")
                await asyncio.sleep(0.05)
            return reply

        app = web.Application()
        app.router.add_get("/attestations/{key}", drip)
        return app

    with BackgroundHttpServer(dripping) as server:
        fetcher = Fetcher(_store(tmp_path, "r"), [Source(A, server.url)], ORIGIN, GATEWAY,
                          timeout_s=0.5, allow_private=True)
        began = time.monotonic()
        assert fetcher.fetch([M1, M2]) == 0
        assert time.monotonic() - began < 3  # one deadline, then the source waits its turn
        assert fetcher.unreachable[A] == 1


@pytest.mark.parametrize("location", ["http://127.0.0.1:9/x?y=", "http://h/x#frag",
                                      "http://u:p@h/", "ftp://h/", "http://0.0.0.0:80/",
                                      "http://10.0.0.1/", "http://localhost:1/"])
def test_a_relayer_never_fetches_from_a_location_an_attester_could_aim_inward(
        location: str) -> None:
    assert check_source_location(location, allow_private=False) is not None
    assert check_source_location("https://att.example.org/v1", allow_private=False) is None
    assert check_source_location("http://127.0.0.1:8801/", allow_private=True) is None


def test_a_broken_http_answer_or_a_json_bomb_is_one_sources_fault_not_the_passs(
        tmp_path: Path) -> None:
    def bomb() -> web.Application:
        app = web.Application()

        async def nested(request: web.Request) -> web.Response:
            return web.Response(text="[" * 50_000 + "]" * 50_000)

        app.router.add_get("/attestations/{key}", nested)
        return app

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def garbage_status() -> None:
        for _ in range(4):
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 2OO KO\r\n\r\n")
            conn.close()

    threading.Thread(target=garbage_status, daemon=True).start()
    bad_status = f"http://127.0.0.1:{listener.getsockname()[1]}"
    served = _store(tmp_path, "a")
    served.put_attestations([(M1, A, _sign(KEYS[0], bytes.fromhex(M1[2:])))])
    with BackgroundHttpServer(bomb) as bombing, serve_attestations(served, A) as honest:
        fetcher = Fetcher(_store(tmp_path, "r"),
                          [Source(B, bad_status), Source(C, bombing.url), Source(A, honest.url)],
                          ORIGIN, GATEWAY, allow_private=True)
        assert fetcher.fetch([M1]) == 1  # the honest one still counted
    listener.close()
    assert fetcher.unreachable[B] == 1 and fetcher.rejected[C] == 1


def test_a_fetcher_with_enough_signatures_for_a_key_asks_no_further_attester(
        tmp_path: Path) -> None:
    """With a threshold, the first attesters that verify are enough; the rest are not asked
    (and a liar before them only costs its own request)."""
    stores = [_store(tmp_path, n) for n in ("x", "y", "z")]
    for store, key, signer in zip(stores, KEYS[:3], (A, B, C), strict=True):
        store.put_attestations([(M1, signer, _sign(key, bytes.fromhex(M1[2:])))])
    asked: list[str] = []

    def counting(store: SqliteStore, signer: str) -> BackgroundHttpServer:
        @web.middleware
        async def count(request: web.Request, handler):  # type: ignore[no-untyped-def]
            asked.append(signer)
            return await handler(request)

        def app() -> web.Application:
            a = attestation_app(store, signer)
            a.middlewares.append(count)
            return a

        return BackgroundHttpServer(app, "127.0.0.1", 0)

    running = [counting(s, signer) for s, signer in zip(stores, (A, B, C), strict=True)]
    try:
        sources = [Source(signer, srv.start()) for signer, srv in zip((A, B, C), running,
                                                                       strict=True)]
        relayer = _store(tmp_path, "relayer")
        fetcher = Fetcher(relayer, sources, ORIGIN, GATEWAY, route=ROUTE, window=2,
                          allow_private=True, threshold=2)
        assert fetcher.fetch([M1]) == 2
        assert sorted(asked) == sorted([A, B])  # the first two, at once
        assert fetcher.fetch([M1]) == 0 and len(asked) == 2  # enough already: nobody asked
    finally:
        for srv in running:
            srv.stop()


def test_a_relayer_asks_again_soon_while_a_validator_of_the_set_has_not_announced() -> None:
    """An attester that starts after the relayer is found within seconds, not after the
    30 s refresh a complete set waits."""
    answers: list[Sources] = []

    def sources() -> Sources:
        return answers.pop(0)

    partial = Sources([Source("0x" + "11" * 20, "http://127.0.0.1:1/"),
                       Source("0x" + "22" * 20, "http://127.0.0.1:2/")])
    partial.silent = 1  # the third validator has announced nothing yet
    complete = Sources([*partial, Source("0x" + "33" * 20, "http://127.0.0.1:3/")])
    fetcher = Fetcher(SqliteStore(":memory:"), [], 1, "0x" + "00" * 20)
    feed = Feed(None, fetcher, "r", 50, 2, sources)  # type: ignore[arg-type]
    answers += [partial, complete]
    feed._refresh()
    assert len(fetcher.sources) == 2
    assert feed._next_refresh - time.monotonic() <= 4.5  # a short pause, doubling
    feed._next_refresh = 0.0  # that pause is over
    feed._refresh()
    assert len(fetcher.sources) == 3
    assert feed._next_refresh - time.monotonic() > 25.0  # whole set known: the slow refresh
