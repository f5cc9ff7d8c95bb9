"""CI's gas check: every benchmarked operation stays within 1% of bench/gas-snapshot.json."""

from __future__ import annotations

from bench import snapshot
from bench.__main__ import measure


def test_gas_of_every_benchmarked_operation_matches_the_committed_snapshot() -> None:
    measured = measure([], gas_only=True).get("gas", {})
    assert measured, "no benchmark reported gas"
    problems = snapshot.compare(measured)
    assert not problems, "gas snapshot mismatch (intended? python -m bench --update-snapshot):\n" \
        + "\n".join(problems)


def test_snapshot_check_reports_a_rise_above_one_percent_readably() -> None:
    problems = snapshot.compare({"op": 10_200, "same": 500}, {"op": 10_000, "same": 500})
    assert problems == ["op: 10,000 -> 10,200 gas (+2.00%)"]


def test_snapshot_check_flags_operations_missing_on_either_side() -> None:
    problems = snapshot.compare({"new": 1}, {"old": 2})
    assert any("old" in p and "no longer measured" in p for p in problems)
    assert any("new" in p and "update-snapshot" in p for p in problems)
