"""The keeper says why a call keeps failing (issue 17: a failing call was logged at debug
only, so a stuck remote step looked like an idle keeper)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from accord.chain.accounts import dev_account
from accord.errors import ContractRevert
from accord.crosschain.keeper import Keeper


class _Refusing:
    """A client whose every transaction reverts with the given custom error."""

    def __init__(self, name: str) -> None:
        self.name = name

    def contract(self, *_: Any) -> None:
        return None

    def transact(self, *_: Any, **__: Any) -> None:
        raise ContractRevert(self.name, (), "0x")


def _keeper(error: str) -> Keeper:
    return Keeper(_Refusing(error), "0x" + "11" * 20, "0x" + "22" * 20,  # type: ignore[arg-type]
                  dev_account(2))


def test_a_revert_that_is_not_a_race_is_a_warning_with_its_reason_once(
        caplog: pytest.LogCaptureFixture) -> None:
    keeper = _keeper("CoordinatorNoRouter")
    with caplog.at_level(logging.DEBUG, logger="accord.keeper"):
        for _ in range(3):
            assert keeper._try(None, "dispatch run 1 step 1") is False
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].getMessage() == ("dispatch run 1 step 1 failed: reverted with "
                                        "CoordinatorNoRouter(); it is retried every pass")


def test_a_lost_race_stays_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    keeper = _keeper("CoordinatorStepNotReady")
    with caplog.at_level(logging.DEBUG, logger="accord.keeper"):
        assert keeper._try(None, "dispatch run 1 step 1") is False
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
