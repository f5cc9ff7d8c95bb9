"""The negative-test matrix (issue #8) has no empty cell and docs/negative-matrix.md is the
generator's current output. Collection only: no test runs, no chain starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.testing import negmatrix

ROOT = Path(__file__).resolve().parents[2]
HINT = "run 'make matrix' (python -m accord.testing.negmatrix) and commit docs/negative-matrix.md"


@pytest.fixture(scope="module")
def matrix() -> negmatrix.Matrix:
    return negmatrix.build(ROOT)


def test_every_cell_names_a_test_or_a_reason(matrix: negmatrix.Matrix) -> None:
    empty = negmatrix.empty_cells(matrix)
    assert not empty, f"empty cells, first {empty[0][0]} × {empty[0][1]}: {HINT}"


def test_committed_matrix_is_up_to_date(matrix: negmatrix.Matrix) -> None:
    committed = (ROOT / negmatrix.MD_FILE).read_text()
    assert committed == negmatrix.render(matrix), f"docs/negative-matrix.md is stale: {HINT}"


def test_covers_naming_an_unknown_function_or_category_is_refused() -> None:
    with pytest.raises(negmatrix.MatrixError, match="names no state-changing function"):
        negmatrix.build(ROOT, marks=[("t.py::test_x", ("AgentRoles.nope", "replay"))])
    with pytest.raises(negmatrix.MatrixError, match="is not one of"):
        negmatrix.build(ROOT, marks=[("t.py::test_x", ("AgentRoles.bond", "rude_caller"))])


def test_every_deployable_contract_is_in_the_matrix() -> None:
    deployables = {p.stem for p in (ROOT / "contracts").glob("*.sol")} - {"Probe"}
    deployables |= {p.stem for p in (ROOT / "contracts" / "demo").glob("*.sol")}
    assert deployables == set(negmatrix.CONTRACTS)
