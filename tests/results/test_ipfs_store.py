"""IPFS results against real IPFS nodes (helia processes the fixtures start on loopback):
a result published to one node is read through another over bitswap, stays reachable after
its publisher is gone while a pinning peer holds it, and every copy is checked against its CID
and the chain's hash (a lying gateway is refused, a URI naming other content than the chain
is rejected); writes need the node's token; bad input is refused before any request."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from aiohttp import web
from eth_utils import keccak

from accord.errors import ConfigError, ToolchainError
from accord.ipfs.cid import raw_cid
from accord.ipfs.node import TOKEN_ENV, IpfsNode
from accord.ipfs.store import GATEWAYS_ENV, MAX_BLOCK_BYTES, IpfsResultStore, fetch_ipfs
from accord.service.http import BackgroundHttpServer
from accord.workflows.result_store import (
    ResultIntegrityError,
    ResultNotFoundError,
    ResultStore,
    ResultUnavailableError,
    open_store,
)

StartNode = Callable[..., IpfsNode]


@pytest.fixture(scope="module")
def pinner(ipfs_nodes: StartNode) -> IpfsNode:
    """A pinning node: it keeps what it is asked to pin, from whichever peer has it."""
    return ipfs_nodes("pinner")


@pytest.fixture(scope="module")
def reader(ipfs_nodes: StartNode, pinner: IpfsNode) -> IpfsNode:
    """Another operator's node, peered only with the pinning node."""
    return ipfs_nodes("reader", peers=[pinner.info.peer_address])


@pytest.fixture(scope="module")
def home(ipfs_nodes: StartNode) -> IpfsNode:
    """A node on its own: this machine publishes to it and reads through it."""
    return ipfs_nodes("home")


def _publisher_store(node: IpfsNode, tmp_path: Path) -> IpfsResultStore:
    return IpfsResultStore(node.info.api, node.token, ResultStore(tmp_path / "cache"))


def _pin(node: IpfsNode, cid: str) -> requests.Response:
    return requests.post(f"{node.info.api}/pins/{cid}", timeout=30,
                         headers={"Authorization": f"Bearer {node.token}"})


def _store(node: IpfsNode, tmp_path: Path) -> IpfsResultStore:
    return IpfsResultStore(node.info.api, node.token, ResultStore(tmp_path / "pin-cache"))


def test_a_result_is_published_under_its_raw_cid_and_read_through_another_node(
        ipfs_nodes: StartNode, pinner: IpfsNode, reader: IpfsNode, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    publisher = ipfs_nodes("publisher-a", peers=[pinner.info.peer_address])
    blob = b"a report " * 1000
    digest, uri = _publisher_store(publisher, tmp_path).put(blob)
    assert digest == keccak(blob)
    assert uri == f"ipfs://{raw_cid(blob)}"
    # another machine: its own cache, reading through its own node, which asks its peers
    assert _pin(pinner, raw_cid(blob)).status_code == 200  # pinner fetched it from publisher
    other = IpfsResultStore(reader.info.api, reader.token, ResultStore(tmp_path / "other"))
    assert other.get(uri, digest) == blob
    # and a machine reading through gateways gets it from one that holds it
    monkeypatch.setenv(GATEWAYS_ENV, pinner.info.api)
    assert ResultStore(tmp_path / "third").get(uri, digest) == blob


def test_a_result_stays_reachable_after_its_publisher_goes_offline(
        ipfs_nodes: StartNode, pinner: IpfsNode, reader: IpfsNode, tmp_path: Path) -> None:
    publisher = ipfs_nodes("publisher-b", peers=[pinner.info.peer_address])
    blob = os.urandom(MAX_BLOCK_BYTES)  # the largest block: bitswap carries it whole
    digest, uri = _publisher_store(publisher, tmp_path).put(blob)
    _store(pinner, tmp_path).pin(uri)  # the pinning operator's node fetches and keeps it
    publisher.stop()
    assert not publisher.alive()
    # the reader's node has never seen it: it comes from the pinning node over bitswap
    assert fetch_ipfs(uri, [reader.info.api], reader.token) == blob
    assert keccak(blob) == digest


def test_pinning_a_block_no_peer_holds_or_a_bad_uri_is_not_found(
        reader: IpfsNode, tmp_path: Path) -> None:
    with pytest.raises(ResultNotFoundError, match=r"could not pin .*\(404"):
        _store(reader, tmp_path).pin(f"ipfs://{raw_cid(b'nobody published this')}")
    with pytest.raises(ResultNotFoundError, match="cannot pin 'ipfs://bafy'"):
        _store(reader, tmp_path).pin("ipfs://bafy")


def test_a_block_nobody_holds_is_not_found(reader: IpfsNode) -> None:
    uri = f"ipfs://{raw_cid(b'never published')}"
    with pytest.raises(ResultNotFoundError, match="does not hold it") as info:
        fetch_ipfs(uri, [reader.info.api], reader.token)
    assert not isinstance(info.value, ResultUnavailableError)


def test_a_stranger_cannot_make_a_node_fetch_and_keep_blocks(
        ipfs_nodes: StartNode, pinner: IpfsNode, tmp_path: Path) -> None:
    """Without the token a node serves only what it holds: a stranger's GET of a block its
    peers have neither fetches it nor fills the node's disk."""
    publisher = ipfs_nodes("publisher-c", peers=[pinner.info.peer_address])
    blob = os.urandom(1000)
    _, uri = _publisher_store(publisher, tmp_path).put(blob)
    blocks = lambda: sorted(p.name for p in (pinner.folder / "blocks").rglob("*")  # noqa: E731
                            if p.is_file())
    held = blocks()
    with pytest.raises(ResultNotFoundError, match="does not hold it"):
        fetch_ipfs(uri, [pinner.info.api])  # no token
    assert blocks() == held
    assert fetch_ipfs(uri, [pinner.info.api], pinner.token) == blob  # its operator may


@pytest.fixture
def lying_gateway() -> Iterator[str]:
    """A gateway that answers every CID with other bytes."""
    async def lie(_: web.Request) -> web.Response:
        return web.Response(body=b"not what you asked for")

    def app() -> web.Application:
        a = web.Application()
        a.router.add_get("/ipfs/{cid}", lie)
        return a

    server = BackgroundHttpServer(app, "127.0.0.1", 0, name="a lying gateway")
    url = server.start().rstrip("/")
    yield url
    server.stop()


def test_a_gateway_serving_other_bytes_is_refused_and_an_honest_one_used(
        home: IpfsNode, lying_gateway: str, tmp_path: Path) -> None:
    node = home
    blob = b"the real result"
    digest, uri = _publisher_store(node, tmp_path).put(blob)
    with pytest.raises(ResultUnavailableError, match="not " + raw_cid(blob)):
        fetch_ipfs(uri, [lying_gateway])  # the gateway's fault, not the submitter's
    assert fetch_ipfs(uri, [lying_gateway, node.info.api]) == blob
    assert keccak(blob) == digest


def test_an_ipfs_uri_naming_other_content_than_the_chain_is_rejected(
        home: IpfsNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    node = home
    store = _publisher_store(node, tmp_path)
    _, uri = store.put(b"something else")
    committed = keccak(b"what was committed")
    with pytest.raises(ResultIntegrityError, match="does not match the commitment"):
        store.get(uri, committed)
    monkeypatch.setenv(GATEWAYS_ENV, node.info.api)
    with pytest.raises(ResultIntegrityError):
        ResultStore(tmp_path / "reader").get(uri, committed)


def test_a_write_without_the_token_is_refused_and_stores_nothing(
        home: IpfsNode, tmp_path: Path) -> None:
    node = home
    blob = b"uninvited"
    for headers in ({}, {"Authorization": "Bearer " + "x" * 32}):
        resp = requests.post(f"{node.info.api}/blocks", data=blob, headers=headers, timeout=10)
        assert resp.status_code == 401
    with pytest.raises(ConfigError, match=f"refused the token in {TOKEN_ENV}"):
        IpfsResultStore(node.info.api, "y" * 32, ResultStore(tmp_path / "c")).put(blob)
    with pytest.raises(ResultNotFoundError):
        fetch_ipfs(f"ipfs://{raw_cid(blob)}", [node.info.api])


@pytest.mark.parametrize("uri", [
    "ipfs://",
    "ipfs://QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",  # CIDv0 (dag-pb)
    "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",  # dag-pb
    f"ipfs://{raw_cid(b'x')}/etc/passwd",
    f"ipfs://{raw_cid(b'x')}?x=1",
    f"ipfs://{raw_cid(b'x').upper()}",
    "ipfs://b" + "a" * 58,
])
def test_uris_that_name_no_raw_block_are_refused_before_any_request(uri: str) -> None:
    # the only "gateway" is a closed port: reaching it would be a different error
    with pytest.raises(ResultNotFoundError, match="CID|base32"):
        fetch_ipfs(uri, ["http://127.0.0.1:9"])


def test_a_blob_over_one_block_is_refused_with_advice(home: IpfsNode, tmp_path: Path) -> None:
    node = home
    with pytest.raises(ConfigError, match="HTTP result service"):
        _publisher_store(node, tmp_path).put(b"\0" * (MAX_BLOCK_BYTES + 1))
    resp = requests.post(f"{node.info.api}/blocks", data=b"\0" * (MAX_BLOCK_BYTES + 1),
                         headers={"Authorization": f"Bearer {node.token}"}, timeout=10)
    assert resp.status_code == 413


def test_reading_ipfs_with_no_node_configured_says_what_to_set(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(GATEWAYS_ENV, raising=False)
    with pytest.raises(ResultNotFoundError, match=GATEWAYS_ENV):
        ResultStore(tmp_path).get(f"ipfs://{raw_cid(b'x')}")


def test_open_store_picks_ipfs_by_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "t" * 32)
    store = open_store("ipfs+http://127.0.0.1:8711")
    assert isinstance(store, IpfsResultStore) and store.api == "http://127.0.0.1:8711"
    monkeypatch.delenv(TOKEN_ENV)
    with pytest.raises(ConfigError, match=TOKEN_ENV):
        open_store("ipfs+http://127.0.0.1:8711")


def test_a_node_that_cannot_start_says_why(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match="has no /p2p/"):
        IpfsNode(tmp_path, "z" * 32, peers=["/ip4/127.0.0.1/tcp/4001"]).start()
    with pytest.raises(ConfigError, match="at least 16"):
        IpfsNode(tmp_path, "short")


def test_accord_results_ipfs_runs_a_node_until_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, TOKEN_ENV: "k" * 32}
    proc = subprocess.Popen([sys.executable, "-m", "accord.cli", "results", "ipfs", "--port",
                             "0", "--dir", str(tmp_path / "node")], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("ipfs: http://127.0.0.1:"), line
        api = line.split()[1]
        assert requests.get(f"{api}/id", timeout=10).json()["peerId"] in line
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 128 + signal.SIGTERM  # as every Accord service
        assert "ipfs node stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_accord_results_ipfs_without_a_token_is_a_one_line_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    done = subprocess.run([sys.executable, "-m", "accord.cli", "results", "ipfs", "--dir",
                           str(tmp_path)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and TOKEN_ENV in done.stderr
