"""A fresh chain per test module and a private place for deployment manifests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.devnet import Chain, Devnet


@pytest.fixture
def manifests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Deployment manifests and devnet state go to a tmp dir, never the repository."""
    monkeypatch.setenv("ACCORD_DEPLOYMENTS_ROOT", str(tmp_path / "dep"))
    monkeypatch.setenv("ACCORD_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "dep" / "deployments"


@pytest.fixture
def chain(fresh_devnet: Devnet) -> Chain:
    """An empty chain with chaina's id (deployments start from nonce 0)."""
    return fresh_devnet.start("chaina")


@pytest.fixture
def cli_runner() -> Iterator[object]:
    from click.testing import CliRunner

    yield CliRunner()
