"""Compiled contracts from ape's build manifest (``.build/__local__.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from accord.errors import ToolchainError
from accord.paths import project_root


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    runtime_bytecode: str


@lru_cache(maxsize=1)
def _manifest() -> dict[str, Any]:
    path = project_root() / ".build" / "__local__.json"
    if not path.is_file():
        raise ToolchainError("contracts are not compiled; run 'make compile' (ape compile)")
    return dict(json.loads(path.read_text()).get("contractTypes", {}))


def artifact(name: str) -> Artifact:
    """A compiled contract by name, or a ToolchainError naming the fix."""
    types = _manifest()
    if name not in types:
        raise ToolchainError(
            f"no compiled contract named '{name}'; run 'make compile' after adding it"
        )
    ct = types[name]
    return Artifact(
        name=name,
        abi=ct["abi"],
        bytecode=(ct.get("deploymentBytecode") or {}).get("bytecode", "0x"),
        runtime_bytecode=(ct.get("runtimeBytecode") or {}).get("bytecode", "0x"),
    )


def all_errors_abi() -> list[dict[str, Any]]:
    """Every custom error of every compiled contract, for decoding reverts anywhere."""
    seen: dict[str, dict[str, Any]] = {}
    for ct in _manifest().values():
        for item in ct["abi"]:
            if item.get("type") == "error":
                sig = item["name"] + "(" + ",".join(i["type"] for i in item["inputs"]) + ")"
                seen.setdefault(sig, item)
    return list(seen.values())


def reload() -> None:
    """Forget the cached manifest (after a recompile)."""
    _manifest.cache_clear()
