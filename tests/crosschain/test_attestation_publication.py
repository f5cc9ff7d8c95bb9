"""Attesters publish their signatures over HTTP; a relayer fetches them into its own store and
trusts none it has not verified: a lying, garbled, redirecting or dead attester changes
nothing but its own counters."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from eth_keys.datatypes import PrivateKey

from accord.crosschain import messages
from accord.crosschain.attestation_store import SqliteStore
from accord.crosschain.publication import Fetcher, Source, serve_attestations
from accord.service.http import BackgroundHttpServer

ORIGIN, GATEWAY = 31337001, "0x" + "ab" * 20
KEYS = [PrivateKey((0xFEED00 + i).to_bytes(32, "big")) for i in range(4)]
A, B, C, D = (k.public_key.to_checksum_address() for k in KEYS)
M1, M2 = "0x" + "11" * 32, "0x" + "22" * 32
WINDOW = "window:31337001->31337002:0"


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
    liar = _store(tmp_path, "b")
    liar.put_attestations([(M1, B, _sign(KEYS[2], bytes.fromhex(M1[2:]))),
                           (WINDOW, B, _sign(KEYS[1], root, batch=True)),
                           (WINDOW + ":ids", B, f"{M2},{M1}")])  # its root, other members

    def garbled() -> web.Application:
        app = web.Application()
        app.router.add_get("/attestations/{key}", lambda r: web.Response(text="<html>oops"))
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
    dead = PrivateKey((0xDEAD).to_bytes(32, "big")).public_key.to_checksum_address()
    sources = [Source(a, url) for a, url in servers.items()]
    sources += [Source(dead, f"http://127.0.0.1:{_free_port()}"),
                Source(dead, "file:///etc/passwd")]
    fetcher = Fetcher(relayer, sources, ORIGIN, GATEWAY, timeout_s=2.0)
    assert fetcher.fetch([M1, WINDOW, M2]) == 2  # A's message and A's window
    assert relayer.attestations(M1) == {A: _sign(KEYS[0], bytes.fromhex(M1[2:]))}
    assert set(relayer.attestations(WINDOW)) == {A}
    assert relayer.attestations(WINDOW + ":ids") == {A: f"{M1},{M2}"}
    assert relayer.attestations(M2) == {}  # nobody signed it alone: nothing to store
    # the liar's signatures are C's (message) and over other members (window): both refused
    assert fetcher.rejected[B] == 2
    assert fetcher.rejected[C] >= 1  # not JSON
    assert fetcher.rejected[dead] >= 1  # a file:// location is never opened
    assert fetcher.unreachable[D] >= 1 and fetcher.unreachable[dead] >= 1  # no redirect, down
    # a second pass asks only what is still missing, and stores nothing twice
    assert fetcher.fetch([M1, WINDOW]) == 0
    assert relayer.attestations(M1) == {A: _sign(KEYS[0], bytes.fromhex(M1[2:]))}


def test_an_attester_serves_only_its_own_signatures(tmp_path: Path) -> None:
    shared = _store(tmp_path, "shared")  # even a store holding others' rows
    shared.put_attestations([(M1, B, _sign(KEYS[1], bytes.fromhex(M1[2:])))])
    with serve_attestations(shared, A) as server:
        fetcher = Fetcher(_store(tmp_path, "r"), [Source(A, server.url)], ORIGIN, GATEWAY)
        assert fetcher.fetch([M1]) == 0
        assert fetcher.rejected[A] == 0 and fetcher.unreachable[A] == 0  # a plain 404
