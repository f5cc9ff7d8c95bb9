"""Shared fixtures. Chains come from accord.devnet (the same code the CLI uses): every anvil
runs on a free loopback port and is stopped by its own pid when its fixture ends."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("ACCORD_ROOT", str(ROOT))
os.environ.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".solcx"))
# A devnet the user runs ('accord devnet up') is recorded in <repo>/.accord (or the user's
# ACCORD_STATE_DIR): the tests never read or write it. The session gets a state dir of its
# own; a test that needs a particular one sets it (see the ``manifests`` fixture).
SESSION_STATE = Path(tempfile.mkdtemp(prefix="accord-test-state-"))
os.environ["ACCORD_STATE_DIR"] = str(SESSION_STATE)

from accord.dev.devnet import Chain, Devnet  # noqa: E402
from accord.ipfs.node import IpfsNode  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """Drop ape-solidity's copy of OpenZeppelin under contracts/.cache (left by a manual
    `ape compile`): ape lists at most 500 files under contracts/ and the cache alone has more,
    which would hide our mocks and libraries from `project`. See the Makefile's compile."""
    shutil.rmtree(ROOT / "contracts" / ".cache", ignore_errors=True)
    _patient_ape_node_start()


#: The longest modules (minutes on a 2-core machine), longest first. pytest-xdist's loadscope
#: hands modules to workers in collection order; starting the long ones first keeps both
#: workers busy to the end instead of one finishing a long module alone.
LONGEST_FIRST = (
    "tests/e2e/test_demo.py",
    "tests/dashboard/test_dashboard_browser.py",
    "tests/e2e/test_readme_crosschain.py",
    "tests/static/test_slither.py",
    "tests/property/test_coordinator_model.py",
    "tests/property/test_crosschain_model.py",
    "tests/faults/test_kills.py",
    "tests/apeproject/test_user_ape_project.py",
    "tests/property/test_value_invariants.py",
    "tests/agents/test_restart_and_handlers.py",
    "tests/faults/test_anvil_restart.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the LONGEST_FIRST modules first, in that order; the rest keep theirs."""
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}

    def key(item: pytest.Item) -> int:
        return rank.get(item.nodeid.split("::", 1)[0], len(rank))

    items.sort(key=key)  # stable: tests within a module keep their order


def _patient_ape_node_start(seconds: int = 120) -> None:
    """ape waits 20 s (a default argument, no setting) for the anvil it starts to answer; on a
    busy 2-core machine (two suites, or CPU-bound processes beside this one) that is not
    enough and the whole session dies at collection. Wait up to ``seconds``: a node that
    answers sooner is used at once."""
    from ape.api.providers import SubprocessProvider

    defaults = SubprocessProvider.start.__defaults__
    if defaults == (20,):
        SubprocessProvider.start.__defaults__ = (seconds,)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(SESSION_STATE, ignore_errors=True)


@pytest.fixture(scope="session")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    """``chaina`` and ``chainb`` with their own chain ids, for the whole session."""
    with Devnet(log_dir=tmp_path_factory.mktemp("anvil-logs")) as net:
        net.start("chaina")
        net.start("chainb")
        yield net


@pytest.fixture(scope="session")
def chaina(devnet: Devnet) -> Chain:
    return devnet.chains["chaina"]


@pytest.fixture(scope="session")
def chainb(devnet: Devnet) -> Chain:
    return devnet.chains["chainb"]


@pytest.fixture
def fresh_devnet(tmp_path: Path) -> Iterator[Devnet]:
    """An empty Devnet owned by one test (for forks, restarts and lifecycle tests)."""
    with Devnet(log_dir=tmp_path) as net:
        yield net


@pytest.fixture
def manifests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Deployment manifests and devnet state go to a tmp dir, never the repository."""
    monkeypatch.setenv("ACCORD_DEPLOYMENTS_ROOT", str(tmp_path / "dep"))
    monkeypatch.setenv("ACCORD_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "dep" / "deployments"


@pytest.fixture
def recorded_devnet(fresh_devnet: Devnet, manifests: Path) -> Callable[..., Devnet]:
    """Start chains on free ports and record them as `accord devnet up` does (the manifest in
    this test's state directory), so `--network chaina` reaches them."""

    def start(*names: str) -> Devnet:
        for name in names:
            fresh_devnet.start(name)
        state = Path(os.environ["ACCORD_STATE_DIR"])
        state.mkdir(parents=True, exist_ok=True)
        fresh_devnet.write_manifest(state / "devnet.json")
        return fresh_devnet

    return start


def accord_deploy(network: str) -> None:
    """`accord deploy --network NETWORK`, as a user runs it; fails the test on an error."""
    done = subprocess.run(["accord", "deploy", "--network", network], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def deployed_chaina(recorded_devnet: Callable[..., Devnet]) -> Chain:
    """chaina on a free port, recorded, with an Accord suite deployed by `accord deploy`."""
    chain = recorded_devnet("chaina").chains["chaina"]
    accord_deploy("chaina")
    return chain


@pytest.fixture(scope="module")
def ipfs_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., IpfsNode]]:
    """Starts IPFS nodes (helia processes: HTTP API and libp2p on free loopback ports, own
    folders and token) for a test module; each is stopped by its own pid at the end.
    ``start(name, peers=[...])`` peers it with earlier nodes' addresses."""
    import secrets

    started: list[IpfsNode] = []

    def start(name: str, peers: list[str] | None = None, fetch_timeout_s: float = 3.0
              ) -> IpfsNode:
        node = IpfsNode(tmp_path_factory.mktemp(f"ipfs-{name}"), secrets.token_hex(16),
                        peers=peers, fetch_timeout_s=fetch_timeout_s)
        started.append(node)
        return node.start()

    yield start
    for node in started:
        node.stop()
