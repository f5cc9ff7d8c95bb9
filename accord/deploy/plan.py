"""Idempotent deployment of a set of contracts and their wiring, recorded in a manifest.

A deployment is a plan: contracts (each may reference the address of an earlier one) and
wiring steps (each with a check and an action). Running a plan where it is already
deployed verifies code hashes and wiring and changes nothing, or only what differs, and
reports which. The manifest is rewritten atomically after every step, so a deployment that
is interrupted midway resumes where it stopped.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from accord.chain.artifacts import artifact
from accord.chain.client import Client
from accord.errors import ConfigError
from accord.paths import project_root


@dataclass(frozen=True)
class Ref:
    """The address of another contract of the same plan."""

    key: str


@dataclass
class ContractStep:
    key: str
    contract: str
    args: list[Any] = field(default_factory=list)
    value: int = 0


@dataclass
class WireStep:
    """One piece of wiring: ``check(addresses)`` is True when it is in place already."""

    key: str
    check: Callable[[Client, dict[str, str]], bool]
    apply: Callable[[Client, dict[str, str], LocalAccount], Any]


@dataclass(frozen=True)
class Pending:
    """What a wiring step's ``apply`` returns when the change is under way but waits on the
    chain (an announced slasher's delay): reported, not failed; a later run completes it."""

    message: str


@dataclass
class Plan:
    contracts: list[ContractStep]
    wiring: list[WireStep] = field(default_factory=list)


@dataclass
class Report:
    deployed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    redeployed: list[str] = field(default_factory=list)
    wired: list[str] = field(default_factory=list)
    wiring_ok: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.deployed or self.redeployed or self.wired)

    def lines(self) -> list[str]:
        out = [f"deployed {k}" for k in self.deployed]
        out += [f"redeployed {k} (code changed)" for k in self.redeployed]
        out += [f"wired {k}" for k in self.wired]
        out += [f"pending {p}" for p in self.pending]
        if not self.changed and not self.pending:
            out.append(f"nothing to do: {len(self.unchanged)} contracts and "
                       f"{len(self.wiring_ok)} wiring checks match the chain")
        return out


def manifest_path(ecosystem: str, network: str, root: Path | None = None) -> Path:
    return (root or project_root()) / "deployments" / f"{ecosystem}_{network}.json"


def read_manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise ConfigError(f"deployment manifest {path} is not valid JSON ({exc}); restore it "
                          "from git or delete it to deploy afresh") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"deployment manifest {path} is not a JSON object; fix or delete it")
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_root(),
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _resolve(args: list[Any], addresses: dict[str, str]) -> list[Any]:
    return [addresses[a.key] if isinstance(a, Ref) else a for a in args]


def _json_arg(a: Any) -> Any:
    if isinstance(a, bytes):
        return "0x" + a.hex()
    return a


def run_plan(client: Client, sender: LocalAccount, plan: Plan, path: Path, *,
             network: str, log: Callable[[str], None] = lambda _: None) -> Report:
    """Deploy what is missing or changed, wire what is not wired; record everything."""
    manifest = read_manifest(path)
    if manifest and int(manifest.get("chain_id", client.chain_id)) != client.chain_id:
        raise ConfigError(
            f"{path} records chain id {manifest['chain_id']} but the network answers "
            f"{client.chain_id}; use the right --network or move the manifest away")
    manifest.update({"network": network, "chain_id": client.chain_id})
    manifest.setdefault("contracts", {})
    report = Report()
    addresses: dict[str, str] = {}
    for step in plan.contracts:
        art = artifact(step.contract)
        init_hash = Web3.keccak(hexstr=art.bytecode).hex()
        args = _resolve(step.args, addresses)
        rec = manifest["contracts"].get(step.key)
        if rec:
            onchain = Web3.keccak(client.w3.eth.get_code(rec["address"])).hex()
            same_inputs = (rec.get("init_code_hash") == init_hash
                           and rec.get("constructor_args") == [_json_arg(a) for a in args])
            if onchain == rec.get("code_hash") and same_inputs:
                addresses[step.key] = rec["address"]
                report.unchanged.append(step.key)
                continue
        log(f"deploying {step.key} ({step.contract})")
        contract, receipt = client.deploy(step.contract, *args, sender=sender,
                                          value=step.value)
        code_hash = Web3.keccak(client.w3.eth.get_code(contract.address)).hex()
        (report.redeployed if rec else report.deployed).append(step.key)
        addresses[step.key] = contract.address
        manifest["contracts"][step.key] = {
            "contract": step.contract, "address": contract.address,
            "block": receipt["blockNumber"], "tx": receipt["transactionHash"].hex(),
            "code_hash": code_hash, "init_code_hash": init_hash,
            "constructor_args": [_json_arg(a) for a in args],
        }
        manifest["git_commit"] = git_commit()
        manifest["updated_at"] = int(time.time())
        _write(path, manifest)
    for wire in plan.wiring:
        if wire.check(client, addresses):
            report.wiring_ok.append(wire.key)
            continue
        log(f"wiring {wire.key}")
        result = wire.apply(client, addresses, sender)
        if isinstance(result, Pending):
            report.pending.append(f"{wire.key}: {result.message}")
        else:
            report.wired.append(wire.key)
    manifest.setdefault("git_commit", git_commit())
    _write(path, manifest)
    return report
