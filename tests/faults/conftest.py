"""Fault-injection fixtures; the helpers they and the tests use are in faults_support.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from faults_support import ProxyProcess, two_chains

from accord.dev.devnet import Chain
from accord.dev.supervisor import Supervisor


@pytest.fixture
def tc(chaina: Chain, chainb: Chain) -> Any:
    return two_chains(chaina, chainb)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "relay.sqlite"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Supervisor]:
    with Supervisor(tmp_path / "logs") as s:
        yield s


@pytest.fixture
def proxies() -> Iterator[Callable[..., ProxyProcess]]:
    started: list[ProxyProcess] = []

    def start(upstream: str, *args: str) -> ProxyProcess:
        p = ProxyProcess(upstream, *args)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()
