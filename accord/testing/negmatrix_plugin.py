"""pytest plugin used by ``accord.negmatrix``: records every ``covers`` marker with its test's
node id (parametrised ids folded into the function's), then empties the collected items so
nothing runs and no chain starts. Loaded only with ``-p accord._negmatrix_plugin``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    out = os.environ.get("ACCORD_NEGMATRIX_OUT")
    if not out:
        return
    found: list[dict[str, object]] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for item in items:
        node = item.nodeid.split("[", 1)[0]
        for mark in item.iter_markers("covers"):
            key = (node, tuple(str(a) for a in mark.args))
            if key not in seen:
                seen.add(key)
                found.append({"node": node, "args": list(key[1])})
    Path(out).write_text(json.dumps(found))
    items[:] = []
