"""`accord -v` / `-vv`: Accord's own info and debug lines, never third-party debug output
(web3 would print whole contract bytecode)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from accord.cli import cli


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    accord_level = logging.getLogger("accord").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("accord").setLevel(accord_level)


@pytest.mark.parametrize(("flags", "level"), [(["-v"], logging.INFO),
                                              (["-vv"], logging.DEBUG)])
def test_verbose_flags_raise_only_accords_own_log_level(flags: list[str], level: int) -> None:
    logging.getLogger().handlers.clear()
    result = CliRunner().invoke(cli, [*flags, "devnet", "--help"])
    assert result.exit_code == 0, result.output
    assert logging.getLogger("accord").level == level
    assert logging.getLogger("web3").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("urllib3").getEffectiveLevel() == logging.WARNING
