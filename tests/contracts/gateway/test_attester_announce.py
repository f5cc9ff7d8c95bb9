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


def _sig(key: PrivateKey, board, chain, location: str, sequence: int = 1) -> bytes:
    return sign_announcement(key, chain.chain_id, board.address, location, sequence)


def test_the_python_digest_is_the_contracts(board, chain):
    assert board.announcementDigest("https://a.example/att", 7) == announcement_digest(
        chain.chain_id, board.address, "https://a.example/att", 7)


@pytest.mark.covers("AttesterAnnounce.announce", "replay")
def test_anyone_carries_an_attesters_announcement_and_no_older_one_can_replace_it(
        board, chain, accounts):
    a = A.public_key.to_checksum_address()
    first, second, third = "https://a.example/att", "https://a2.example/att", "https://a3.x/"
    tx = board.announce(a, first, 1, _sig(A, board, chain, first, 1), sender=accounts[5])
    assert [(e.attester, e.location, e.sequence) for e in tx.events] == [(a, first, 1)]
    held_back = _sig(A, board, chain, third, 2)  # signed, never sent: a stranger keeps it
    board.announce(a, second, 3, _sig(A, board, chain, second, 3), sender=accounts[6])
    assert board.locations([a, B.public_key.to_checksum_address()]) == [second, ""]
    # neither the old announcement replayed nor the one held back can move the attester back
    with ape.reverts(board.AnnounceStaleSequence, attester=a, sequence=1, latest=3):
        board.announce(a, first, 1, _sig(A, board, chain, first, 1), sender=accounts[7])
    with ape.reverts(board.AnnounceStaleSequence, attester=a, sequence=2, latest=3):
        board.announce(a, third, 2, held_back, sender=accounts[7])
    assert board.latest(a) == (second, 3)
    # the attester itself may return to an old URL, with a new number
    board.announce(a, first, 4, _sig(A, board, chain, first, 4), sender=accounts[5])
    assert board.latest(a) == (first, 4)


@pytest.mark.covers("AttesterAnnounce.announce", "wrong_caller")
def test_an_announcement_signed_by_anyone_else_or_for_another_location_is_refused(
        board, chain, accounts):
    b = B.public_key.to_checksum_address()
    where = "https://evil.example/att"
    cases = {
        "another key": _sig(A, board, chain, where),
        "another location": _sig(B, board, chain, "https://b.example/att"),
        "another sequence": _sig(B, board, chain, where, 2),
        "another contract": sign_announcement(B, chain.chain_id, accounts[3].address, where, 1),
        "another chain": sign_announcement(B, chain.chain_id + 1, board.address, where, 1),
        "empty": b"",
        "64 bytes": _sig(B, board, chain, where)[:64],
    }
    for why, sig in cases.items():
        with ape.reverts(board.AnnounceInvalidSignature, attester=b):
            board.announce(b, where, 1, sig, sender=accounts[5])
        assert board.locations([b]) == [""], why


@pytest.mark.covers("AttesterAnnounce.announce", "bad_arguments")
def test_an_empty_or_overlong_location_is_refused(board, chain, accounts):
    b = B.public_key.to_checksum_address()
    for location in ("", "https://b.example/" + "x" * 495):
        with ape.reverts(board.AnnounceInvalidLocation, length=len(location)):
            board.announce(b, location, 1, _sig(B, board, chain, location), sender=accounts[5])


def test_an_attester_announces_from_python_and_a_relayer_discovers_it(board, client, chain):
    sender = dev_account(8)
    b = B.public_key.to_checksum_address()
    assert announce(client, board.address, B, "https://b.example/att", sender)
    assert not announce(client, board.address, B, "https://b.example/att", sender)  # no-op
    # a stranger front-runs the attester's next announcement with its own signed copy: the
    # attester's announce still ends with its location the latest, and says it did nothing
    _, seq = client.contract("AttesterAnnounce", board.address).functions.latest(b).call()
    nxt = "https://b2.example/att"
    client.transact(client.contract("AttesterAnnounce", board.address).functions.announce(
        b, nxt, seq + 1, sign_announcement(B, chain.chain_id, board.address, nxt, seq + 1)),
        dev_account(9))
    assert not announce(client, board.address, B, nxt, sender)
    a = A.public_key.to_checksum_address()
    found = discover(client, board.address, [b, a, dev_account(9).address])
    assert found[b] == nxt
    assert dev_account(9).address not in found


def test_a_location_that_is_not_an_http_url_is_a_clear_error():
    for bad in ("file:///etc/passwd", "ftp://x", "", "https://x/" + "y" * 600,
                "http://127.0.0.1:8/admin?flush=1", "http://h/x#", "http://u:p@h/"):
        with pytest.raises(ConfigError, match="http:// or https:// URL"):  # noqa: PT012
            check_location(bad)
