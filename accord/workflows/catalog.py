"""Step names of registered definitions, kept off chain next to the result store.

The chain knows steps by index only; ``accord workflow define`` records the YAML's names
here (``<state>/workflows/<definition id>.json``) so agents and ``workflow status`` can show
and pass names. Unknown definitions fall back to ``step<i>``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from accord.paths import read_json_object


def _dir(root: Path | None) -> Path:
    if root is not None:
        return root
    from accord.paths import state_dir

    return state_dir() / "workflows"


def save(definition_id: bytes, names: list[str], extra: dict[str, Any] | None = None,
         root: Path | None = None) -> Path:
    folder = _dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{definition_id.hex()}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"names": names, **(extra or {})}, indent=2))
    tmp.replace(path)
    return path


def load(definition_id: bytes, root: Path | None = None) -> dict[str, Any] | None:
    return read_json_object(_dir(root) / f"{definition_id.hex()}.json")


def names(definition_id: bytes, count: int, root: Path | None = None) -> list[str]:
    data = load(definition_id, root)
    got = list(data.get("names", [])) if data else []
    if len(got) != count:
        return [f"step{i}" for i in range(count)]
    return [str(n) for n in got]
