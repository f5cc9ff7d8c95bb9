"""The HTTP result service against real processes: results cross machines (separate local
stores), survive their publisher, and every fetch is verified (a tampered or mislabelled blob
is rejected); PUT needs the token; bad input is refused and changes nothing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from eth_utils import keccak

from accord.errors import ConfigError
from accord.service.http import BackgroundHttpServer
from accord.testing.result_service import ResultService
from accord.workflows.result_service import make_app
from accord.workflows.result_store import (
    HttpResultStore,
    ResultIntegrityError,
    ResultNotFoundError,
    ResultStore,
    ResultUnavailableError,
    fetch_http,
    open_store,
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ResultService]:
    with ResultService(tmp_path_factory.mktemp("result-service")) as svc:
        yield svc


def _publisher(service: ResultService, tmp_path: Path, name: str = "a") -> HttpResultStore:
    return HttpResultStore(service.url, service.token, ResultStore(tmp_path / name))


def _blob_files(service: ResultService) -> list[Path]:
    return [p for p in service.blobs.rglob("*") if p.is_file()]


def test_a_result_published_on_one_machine_is_read_on_another(service: ResultService,
                                                               tmp_path: Path) -> None:
    digest, uri = _publisher(service, tmp_path).put(b"analysis: tides")
    assert uri == f"{service.url}/blobs/{digest.hex()}"
    assert digest == keccak(b"analysis: tides")
    other_machine = ResultStore(tmp_path / "b")  # shares no file with the publisher
    assert other_machine.get(uri, digest) == b"analysis: tides"


def test_a_result_stays_reachable_when_its_publisher_is_gone(service: ResultService,
                                                            tmp_path: Path) -> None:
    publisher = _publisher(service, tmp_path)
    digest, uri = publisher.put(b"outlives its agent")
    for path in publisher.cache.root.rglob("*"):
        if path.is_file():
            path.unlink()
    assert ResultStore(tmp_path / "reader").get(uri, digest) == b"outlives its agent"


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-0123456789", "Basic x"])
def test_a_put_without_the_token_is_refused_and_stores_nothing(service: ResultService,
                                                                header: str | None) -> None:
    before = _blob_files(service)
    headers = {"Authorization": header} if header else {}
    resp = requests.put(f"{service.url}/blobs", data=b"unauthorised", headers=headers,
                        timeout=10)
    assert resp.status_code == 401
    assert _blob_files(service) == before


def test_a_publisher_with_the_wrong_token_gets_a_clear_error(service: ResultService,
                                                            tmp_path: Path) -> None:
    store = HttpResultStore(service.url, "not-the-token-0123", ResultStore(tmp_path / "a"))
    with pytest.raises(ConfigError, match="refused the token in ACCORD_RESULTS_TOKEN"):
        store.put(b"x")


def test_a_tampered_blob_is_refused_as_unavailable_not_blamed_on_the_submitter(
        service: ResultService, tmp_path: Path) -> None:
    """The service lied, not the submitter: a judge must abstain, not reject honest work."""
    digest, uri = _publisher(service, tmp_path).put(b"honest result")
    (service.blobs / digest.hex()[:2] / digest.hex()).write_bytes(b"forged result")
    with pytest.raises(ResultUnavailableError, match="faulty or lying"):
        ResultStore(tmp_path / "reader").get(uri, digest)


def test_a_uri_that_names_another_hash_than_the_chain_is_rejected(service: ResultService,
                                                                  tmp_path: Path) -> None:
    """The submitter's lie: the URI does not name what it committed to."""
    _, uri = _publisher(service, tmp_path).put(b"what was stored")
    with pytest.raises(ResultIntegrityError, match="does not match the commitment"):
        ResultStore(tmp_path / "reader").get(uri, keccak(b"what the chain holds"))


@pytest.mark.parametrize("uri", ["file:///dev/zero", "file:///etc/passwd", "/etc/passwd",
                                 "ipfs://bafy", "accord-store://" + "zz" * 32])
def test_a_uri_off_the_chain_never_names_a_local_file(tmp_path: Path, uri: str) -> None:
    with pytest.raises(ResultNotFoundError, match="Accord resolves|malformed store URI|not valid base32"):
        ResultStore(tmp_path).get(uri, keccak(b"x"))


def test_a_server_that_drips_bytes_is_cut_off_at_the_deadline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aiohttp import web

    from accord.workflows import blobs

    async def drip(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        for _ in range(100):
            await resp.write(b"x")
            await asyncio.sleep(0.1)
        return resp

    def app() -> web.Application:
        a = web.Application()
        a.router.add_get("/blobs/{digest}", drip)
        return a

    monkeypatch.setattr(blobs, "FETCH_DEADLINE_S", 0.5)
    with BackgroundHttpServer(app) as server:
        with pytest.raises(ResultUnavailableError, match="to fetch; giving up"):
            fetch_http(f"{server.url}blobs/{'ab' * 32}")


def test_no_credentials_from_the_environment_go_to_a_host_a_uri_names(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aiohttp import web

    seen: list[str | None] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.Response(body=b"x")

    def app() -> web.Application:
        a = web.Application()
        a.router.add_get("/blobs/{digest}", record)
        return a

    netrc = tmp_path / ".netrc"
    netrc.write_text("default login ci-bot password s3cret-token\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))
    with BackgroundHttpServer(app) as server:
        fetch_http(f"{server.url}blobs/{keccak(b'x').hex()}")
    assert seen == [None]


@pytest.mark.parametrize("path,status", [("/blobs/xyz", 400), ("/blobs/" + "ab" * 32, 404)])
def test_bad_or_unknown_blob_names_are_answered_plainly(service: ResultService, path: str,
                                                        status: int) -> None:
    assert requests.get(service.url + path, timeout=10).status_code == status


def test_fetching_an_unknown_blob_says_it_is_not_held(service: ResultService) -> None:
    with pytest.raises(ResultNotFoundError, match="does not hold it"):
        fetch_http(f"{service.url}/blobs/{'ab' * 32}")


@pytest.mark.parametrize("uri", [
    "http://127.0.0.1:9/latest",
    "http://127.0.0.1:9/admin?x=/blobs/" + "ab" * 32,
    "http://127.0.0.1:9/blobs/" + "ab" * 32 + "#frag",
    "http://user:pw@127.0.0.1:9/blobs/" + "ab" * 32,
    "ftp://127.0.0.1/blobs/" + "ab" * 32,
    "http://127.0.0.1:9/blobs/" + "AB" * 32,
    "http://127.0.0.1:9/blobs/" + "ab" * 31,
    "http://[::1/blobs/" + "ab" * 32,
    "http://127.0.0.1:99999999/blobs/" + "ab" * 32,
])
def test_a_uri_that_names_no_blob_is_refused_before_any_request(uri: str) -> None:
    with pytest.raises(ResultNotFoundError, match="with no query or credentials"):
        fetch_http(uri)


def test_a_blob_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "svc")
    with BackgroundHttpServer(lambda: make_app(store, "t" * 16, max_bytes=1024)) as server:
        resp = requests.put(server.url + "blobs", data=b"x" * 2048, timeout=10,
                            headers={"Authorization": "Bearer " + "t" * 16})
    assert resp.status_code == 413
    assert not [p for p in store.root.rglob("*") if p.is_file()]


def test_a_service_that_is_down_gives_a_clear_error(tmp_path: Path) -> None:
    with ResultService(tmp_path / "svc") as svc:
        digest, uri = _publisher(svc, tmp_path).put(b"soon unreachable")
    with pytest.raises(ResultNotFoundError, match="is the result service up"):
        ResultStore(tmp_path / "reader").get(uri, digest)


def test_open_store_picks_the_backend_by_scheme(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("ACCORD_RESULTS_TOKEN", raising=False)
    assert isinstance(open_store(str(tmp_path / "dir")), ResultStore)
    with pytest.raises(ConfigError, match="set ACCORD_RESULTS_TOKEN"):
        open_store("http://127.0.0.1:9")
    monkeypatch.setenv("ACCORD_RESULTS_TOKEN", "secret-token-0123")
    assert isinstance(open_store("http://127.0.0.1:9"), HttpResultStore)


def test_serving_without_a_token_is_a_one_line_error(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "ACCORD_STATE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "accord.cli", "results", "serve", "--port", "0"],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "error: set ACCORD_RESULTS_TOKEN to a secret of at least 16 characters: PUTs must carry "
        "it (agents that publish here set the same variable)"]


def test_only_the_result_services_an_operator_allows_are_fetched_from(
        service: ResultService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digest, uri = _publisher(service, tmp_path).put(b"from an allowed service")
    reader = ResultStore(tmp_path / "reader")
    monkeypatch.setenv("ACCORD_RESULT_ORIGINS", "https://results.example, http://10.0.0.5:8710")
    with pytest.raises(ResultNotFoundError, match="not on a result service this machine"):
        reader.get(uri, digest)
    monkeypatch.setenv("ACCORD_RESULT_ORIGINS", service.url)
    assert reader.get(uri, digest) == b"from an allowed service"
    monkeypatch.setenv("ACCORD_RESULT_ORIGINS", "ftp://nope")
    with pytest.raises(ConfigError, match="is not an http"):
        reader.get(uri, digest)
