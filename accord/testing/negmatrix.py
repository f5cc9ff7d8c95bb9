"""The negative-test matrix: every state-changing external function of every deployable
contract against {wrong caller, wrong state, bad arguments, replay}.

A test claims cells with a marker, next to the assertion that proves them::

    @pytest.mark.covers("AgentRoles.bond", "wrong_caller", "bad_arguments")

Cells that cannot apply carry a reason in ``docs/negative-matrix.yaml``::

    AgentRoles:
      bond:
        replay: "n/a: ..."

``python -m accord.testing.negmatrix`` collects the tests (pytest's collection, nothing runs, no
chain), builds the table from the compiled ABIs and writes ``docs/negative-matrix.md``;
``--check`` only compares. Both exit non-zero with one line naming the first empty or
inconsistent cell.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from accord.chain.artifacts import artifact
from accord.errors import ConfigError
from accord.paths import project_root

CATEGORIES: tuple[str, ...] = ("wrong_caller", "wrong_state", "bad_arguments", "replay")

#: Deployable contracts (contracts/ and contracts/demo/; mocks and the Probe fixture excluded).
CONTRACTS: tuple[str, ...] = (
    "IdentityRegistry",
    "ReputationRegistry",
    "ValidationRegistry",
    "AgentRoles",
    "WorkflowCoordinator",
    "AccordGateway",
    "AttesterAnnounce",
    "AccordGasPaymaster",
    "RemoteStepRouter",
    "ActionLog",
)

MARKER = "covers"
NA_FILE = Path("docs/negative-matrix.yaml")
MD_FILE = Path("docs/negative-matrix.md")
_ENV_OUT = "ACCORD_NEGMATRIX_OUT"

#: (test node id, covers() arguments) pairs, as collected.
Marks = list[tuple[str, tuple[str, ...]]]


class MatrixError(ConfigError):
    """The matrix has an empty cell, or a marker or n/a entry names no real cell."""


@dataclass
class Matrix:
    """Rows per contract; each cell holds test node ids or one n/a reason."""

    rows: dict[str, list[str]]
    tests: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    na: dict[tuple[str, str], str] = field(default_factory=dict)

    def cells(self) -> Iterable[tuple[str, str]]:
        for contract in self.rows:
            for row in self.rows[contract]:
                for cat in CATEGORIES:
                    yield (f"{contract}.{row}", cat)


# ------------------------------------------------------------------ functions from the ABIs


def _signature(item: dict) -> str:
    def typ(inp: dict) -> str:
        t = str(inp["type"])
        if t.startswith("tuple"):
            return "(" + ",".join(typ(c) for c in inp["components"]) + ")" + t[len("tuple"):]
        return t

    return f"{item['name']}({','.join(typ(i) for i in item['inputs'])})"


def state_changing_functions(contract: str) -> list[str]:
    """Row names: every non-view, non-pure function of the compiled ABI (inherited ones too);
    an overloaded name is spelled with its parameter types."""
    fns = [
        i for i in artifact(contract).abi
        if i["type"] == "function" and i.get("stateMutability") not in ("view", "pure")
    ]
    counts: dict[str, int] = {}
    for f in fns:
        counts[f["name"]] = counts.get(f["name"], 0) + 1
    return sorted(_signature(f) if counts[f["name"]] > 1 else f["name"] for f in fns)


# ------------------------------------------------------------------ collection


def collect(root: Path, paths: Sequence[str] = ("tests",)) -> Marks:
    """(node id, marker args) for every ``covers`` marker, through pytest's own collection in
    a subprocess; the plugin empties the item list afterwards, so nothing runs and ape's
    plugin starts no chain."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "covers.json"
        env = dict(os.environ, **{_ENV_OUT: str(out), "ACCORD_ROOT": str(root)})
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
             "-p", "accord.testing.negmatrix_plugin", *paths],
            cwd=root, env=env, capture_output=True, text=True, timeout=300,
        )
        if not out.is_file() or proc.returncode not in (0, 5):
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
            raise MatrixError(
                "collecting tests failed (fix the collection error, then rerun "
                f"'make matrix'): {' | '.join(tail)}"
            )
        data = json.loads(out.read_text())
    return [(str(d["node"]), tuple(d["args"])) for d in data]


# ------------------------------------------------------------------ building and checking


def _split(fn: str) -> tuple[str, str]:
    contract, _, row = fn.partition(".")
    return contract, row


def build(root: Path | None = None, marks: Marks | None = None) -> Matrix:
    """The matrix from the ABIs, the test markers and the n/a file; raises MatrixError on a
    marker or n/a entry that names no real cell, or a cell both tested and n/a."""
    root = root or project_root()
    matrix = Matrix(rows={c: state_changing_functions(c) for c in CONTRACTS})
    known = {f"{c}.{r}" for c, rows in matrix.rows.items() for r in rows}
    for node, args in marks if marks is not None else collect(root):
        if len(args) < 2:
            raise MatrixError(f"{node}: covers() needs a function and at least one category")
        fn, cats = args[0], args[1:]
        if fn not in known:
            raise MatrixError(f"{node}: covers('{fn}') names no state-changing function of "
                              f"{', '.join(CONTRACTS)}; spell it Contract.function as in the ABI")
        for cat in cats:
            if cat not in CATEGORIES:
                raise MatrixError(f"{node}: covers category '{cat}' is not one of {CATEGORIES}")
            ids = matrix.tests.setdefault((fn, cat), [])
            if node not in ids:
                ids.append(node)
    na_path = root / NA_FILE
    raw = yaml.safe_load(na_path.read_text()) if na_path.is_file() else {}
    for contract, fns in (raw or {}).items():
        for row, cells in (fns or {}).items():
            fn = f"{contract}.{row}"
            if fn not in known:
                raise MatrixError(f"{NA_FILE}: '{fn}' is not a state-changing function; remove it")
            for cat, reason in (cells or {}).items():
                text = str(reason or "").strip()
                if cat not in CATEGORIES:
                    raise MatrixError(
                        f"{NA_FILE}: {fn} category '{cat}' is not one of {CATEGORIES}")
                if not text.startswith("n/a:") or len(text) < 15:
                    raise MatrixError(f"{NA_FILE}: {fn} × {cat} needs 'n/a: <reason>'")
                if (fn, cat) in matrix.tests:
                    raise MatrixError(f"{NA_FILE}: {fn} × {cat} is n/a but covered by "
                                      f"{matrix.tests[(fn, cat)][0]}; drop the n/a entry")
                matrix.na[(fn, cat)] = text
    return matrix


def empty_cells(matrix: Matrix) -> list[tuple[str, str]]:
    return [c for c in matrix.cells() if c not in matrix.tests and c not in matrix.na]


def render(matrix: Matrix) -> str:
    """docs/negative-matrix.md: one table per contract, a row per function, four columns."""
    tested = sum(1 for c in matrix.cells() if c in matrix.tests)
    total = sum(1 for _ in matrix.cells())
    lines = [
        "# Negative-test matrix",
        "",
        "Generated by `make matrix` (`python -m accord.testing.negmatrix`) from the compiled",
        "ABIs, the `@pytest.mark.covers(...)` markers on tests and the reasons in",
        "`docs/negative-matrix.yaml`. Do not edit by hand.",
        "",
        "Columns: **wrong caller** (an unauthorised account is refused; for calls authorised by",
        "validator signatures, a wrong signer), **wrong state** (the",
        "call is refused in a state that does not allow it), **bad arguments** (invalid input",
        "is refused), **replay** (doing it again, or re-submitting the same message or",
        "signature, has no second effect).",
        "",
        f"{len(matrix.rows)} contracts, {total // len(CATEGORIES)} functions, {total} cells: "
        f"{tested} covered by tests, {len(matrix.na)} n/a with a reason, "
        f"{len(empty_cells(matrix))} empty.",
    ]
    for contract, rows in matrix.rows.items():
        lines += ["", f"## {contract}", "",
                  "| function | wrong caller | wrong state | bad arguments | replay |",
                  "|---|---|---|---|---|"]
        for row in rows:
            fn = f"{contract}.{row}"
            cells = []
            for cat in CATEGORIES:
                if (fn, cat) in matrix.tests:
                    cells.append("<br>".join(f"`{n}`" for n in sorted(matrix.tests[(fn, cat)])))
                else:
                    cells.append(matrix.na.get((fn, cat), "**EMPTY**").replace("|", "\\|"))
            lines.append(f"| `{row}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m accord.testing.negmatrix", description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="only compare with the committed docs/negative-matrix.md")
    args = parser.parse_args(argv)
    root = project_root()
    try:
        matrix = build(root)
        text = render(matrix)
        md = root / MD_FILE
        if not args.check:
            md.write_text(text)
        empty = empty_cells(matrix)
        if empty:
            fn, cat = empty[0]
            raise MatrixError(
                f"negative matrix: {fn} × {cat} is empty ({len(empty)} empty in all); mark a "
                f"test @pytest.mark.covers('{fn}', '{cat}') or give 'n/a: <reason>' in {NA_FILE}"
            )
        if args.check and (not md.is_file() or md.read_text() != text):
            raise MatrixError(f"{MD_FILE} is out of date; run 'make matrix' and commit it")
    except MatrixError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    tested = sum(1 for c in matrix.cells() if c in matrix.tests)
    print(f"negative matrix: {tested} cells tested, {len(matrix.na)} n/a, 0 empty")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
