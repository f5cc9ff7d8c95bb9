"""The committed gas snapshot (bench/gas-snapshot.json) and the check CI runs against it.

Gas is deterministic on one EVM (prague, anvil 1.7.1), so any rise above the tolerance is a
real regression; an intended change updates the snapshot in the same commit
(`python -m bench --update-snapshot`)."""

from __future__ import annotations

import json
from pathlib import Path

SNAPSHOT = Path(__file__).resolve().parent / "gas-snapshot.json"
TOLERANCE = 0.01  # a rise above 1% fails


def load() -> dict[str, int]:
    if not SNAPSHOT.is_file():
        return {}
    return {k: int(v) for k, v in json.loads(SNAPSHOT.read_text()).items()}


def write(gas: dict[str, int]) -> None:
    SNAPSHOT.write_text(json.dumps(dict(sorted(gas.items())), indent=2) + "\n")


def compare(measured: dict[str, int], snapshot: dict[str, int] | None = None,
            tolerance: float = TOLERANCE) -> list[str]:
    """Readable lines for every operation that rose above tolerance or is missing/new."""
    snap = load() if snapshot is None else snapshot
    problems: list[str] = []
    for key in sorted(set(snap) | set(measured)):
        if key not in measured:
            problems.append(f"{key}: in the snapshot ({snap[key]:,}) but no longer measured")
        elif key not in snap:
            problems.append(f"{key}: measured {measured[key]:,} but not in the snapshot; "
                            "run 'python -m bench --update-snapshot'")
        elif measured[key] > snap[key] * (1 + tolerance):
            rise = (measured[key] - snap[key]) / snap[key] * 100
            problems.append(f"{key}: {snap[key]:,} -> {measured[key]:,} gas (+{rise:.2f}%)")
    return problems
