"""A fresh chain per test module and a private place for deployment manifests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accord.dev.devnet import Chain, Devnet


@pytest.fixture
def chain(fresh_devnet: Devnet) -> Chain:
    """An empty chain with chaina's id (deployments start from nonce 0)."""
    return fresh_devnet.start("chaina")


@pytest.fixture
def cli_runner() -> Iterator[object]:
    from click.testing import CliRunner

    yield CliRunner()
