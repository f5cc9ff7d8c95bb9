"""AttesterAnnounce: attesters say where they publish their attestations; nobody else can say
it for them, and an old location cannot be replayed over a new one."""

from __future__ import annotations

import ape
import pytest
from eth_keys.datatypes import PrivateKey

from accord.chain.accounts import dev_account
from accord.chain.client import Client
from accord.crosschain.announce import (
    announce,
    announcement_digest,
    check_location,
    discover,
    sign_announcement,
)
from accord.errors import ConfigError

A = PrivateKey((0xA77E5701).to_bytes(32, "big"))
B = PrivateKey((0xA77E5702).to_bytes(32, "big"))


@pytest.fixture(scope="module")
def board(project, accounts):
    return project.AttesterAnnounce.deploy(sender=accounts[0])


@pytest.fixture(scope="module")
def client(chain) -> Client:
    return Client(chain.provider.web3.provider.endpoint_uri)


def _sig(key: PrivateKey, board, chain, location: str) -> bytes:
    return sign_announcement(key, chain.chain_id, board.address, location)


def test_the_python_digest_is_the_contracts(board, chain):
    assert board.announcementDigest("https://a.example/att") == announcement_digest(
        chain.chain_id, board.address, "https://a.example/att")


@pytest.mark.covers("AttesterAnnounce.announce", "replay")
def test_anyone_carries_an_attesters_announcement_and_the_latest_location_wins(
        board, chain, accounts):
    a = A.public_key.to_checksum_address()
    first, second = "https://a.example/att", "https://a2.example/att"
    tx = board.announce(a, first, _sig(A, board, chain, first), sender=accounts[5])
    assert [(e.attester, e.location) for e in tx.events] == [(a, first)]
    board.announce(a, second, _sig(A, board, chain, second), sender=accounts[6])
    assert board.locations([a, B.public_key.to_checksum_address()]) == [second, ""]
    # the old announcement, replayed by anyone, cannot move the attester back
    with ape.reverts(board.AnnounceAlreadyAnnounced, attester=a, location=first):
        board.announce(a, first, _sig(A, board, chain, first), sender=accounts[7])
    assert board.locations([a]) == [second]


@pytest.mark.covers("AttesterAnnounce.announce", "wrong_caller")
def test_an_announcement_signed_by_anyone_else_or_for_another_location_is_refused(
        board, chain, accounts):
    b = B.public_key.to_checksum_address()
    where = "https://evil.example/att"
    cases = {
        "another key": _sig(A, board, chain, where),
        "another location": _sig(B, board, chain, "https://b.example/att"),
        "another contract": sign_announcement(B, chain.chain_id, accounts[3].address, where),
        "another chain": sign_announcement(B, chain.chain_id + 1, board.address, where),
        "empty": b"",
        "64 bytes": _sig(B, board, chain, where)[:64],
    }
    for why, sig in cases.items():
        with ape.reverts(board.AnnounceInvalidSignature, attester=b):
            board.announce(b, where, sig, sender=accounts[5])
        assert board.locations([b]) == [""], why


@pytest.mark.covers("AttesterAnnounce.announce", "bad_arguments")
def test_an_empty_or_overlong_location_is_refused(board, chain, accounts):
    b = B.public_key.to_checksum_address()
    for location in ("", "https://b.example/" + "x" * 495):
        with ape.reverts(board.AnnounceInvalidLocation, length=len(location)):
            board.announce(b, location, _sig(B, board, chain, location), sender=accounts[5])


def test_an_attester_announces_from_python_and_a_relayer_discovers_it(board, client):
    sender = dev_account(8)
    b = B.public_key.to_checksum_address()
    assert announce(client, board.address, B, "https://b.example/att", sender)
    assert not announce(client, board.address, B, "https://b.example/att", sender)  # no-op
    a = A.public_key.to_checksum_address()
    found = discover(client, board.address, [b, a, dev_account(9).address])
    assert found[b] == "https://b.example/att"
    assert dev_account(9).address not in found


def test_a_location_that_is_not_an_http_url_is_a_clear_error():
    for bad in ("file:///etc/passwd", "ftp://x", "", "https://x/" + "y" * 600):
        with pytest.raises(ConfigError, match="http:// or https:// URL"):
            check_location(bad)
