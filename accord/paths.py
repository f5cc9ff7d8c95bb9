"""Where things are: the project root, ape-config.yaml, and the toolchain inside the repo."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from accord.errors import ConfigError, ToolchainError

ANVIL_PACKAGE = "@foundry-rs/anvil-linux-amd64"
EVM_VERSION = "prague"


@lru_cache(maxsize=1)
def project_root() -> Path:
    """The Accord project root: ``ACCORD_ROOT``, else the nearest parent of the current
    directory, then of this package, that is an Accord checkout (ape-config.yaml and
    interfaces/IWorkflowCoordinator.sol). A user's own ape project (which has an
    ape-config.yaml and contracts/ too) is skipped, so Accord called from inside it still
    finds its own settings, artifacts and devnet state."""
    env = os.environ.get("ACCORD_ROOT")
    if env:
        return Path(env).resolve()
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for candidate in (start, *start.parents):
            if (candidate / "ape-config.yaml").is_file() \
                    and (candidate / "interfaces" / "IWorkflowCoordinator.sol").is_file():
                return candidate
    raise ConfigError(
        "cannot find the Accord project (no ape-config.yaml above the current directory); "
        "run from the project checkout or set ACCORD_ROOT"
    )


@lru_cache(maxsize=1)
def ape_config() -> dict[str, Any]:
    """ape-config.yaml as a dict (read with PyYAML, without importing ape)."""
    import yaml

    path = project_root() / "ape-config.yaml"
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}; fix the file and retry") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a YAML mapping; fix the file and retry")
    return data


@dataclass(frozen=True)
class NetworkSpec:
    """A named devnet from ape-config.yaml (an ape custom network)."""

    name: str
    chain_id: int
    default_uri: str | None


def devnet_specs() -> dict[str, NetworkSpec]:
    """The custom networks of ape-config.yaml, by name, with their chain ids."""
    cfg = ape_config()
    uris = (cfg.get("node") or {}).get("ethereum") or {}
    specs: dict[str, NetworkSpec] = {}
    for net in (cfg.get("networks") or {}).get("custom") or []:
        name = str(net["name"])
        specs[name] = NetworkSpec(
            name=name,
            chain_id=int(net["chain_id"]),
            default_uri=(uris.get(name) or {}).get("uri"),
        )
    return specs


def devnet_spec(name: str) -> NetworkSpec:
    """One named devnet, or a ConfigError listing the known names."""
    specs = devnet_specs()
    if name not in specs:
        known = ", ".join(sorted(specs)) or "none"
        raise ConfigError(
            f"unknown chain '{name}'; known chains in ape-config.yaml: {known}"
        )
    return specs[name]


def anvil_executable() -> str:
    """The anvil binary: ``ACCORD_ANVIL``, the npm package in node_modules, or PATH."""
    env = os.environ.get("ACCORD_ANVIL")
    if env:
        return env
    local = project_root() / "node_modules" / ANVIL_PACKAGE / "bin" / "anvil"
    if local.is_file():
        return str(local)
    found = shutil.which("anvil")
    if found:
        return found
    raise ToolchainError("anvil is not installed; run 'make setup' (npm installs it)")


def read_json_object(path: Path) -> dict[str, Any] | None:
    """The JSON object a state file holds; None when the file is missing, not JSON or not an
    object (state files are rewritten whole, so a bad one is treated as absent)."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def state_dir() -> Path:
    """Per-checkout runtime state (devnet manifest, logs, databases); ignored by git."""
    path = Path(os.environ.get("ACCORD_STATE_DIR", project_root() / ".accord"))
    path.mkdir(parents=True, exist_ok=True)
    return path
