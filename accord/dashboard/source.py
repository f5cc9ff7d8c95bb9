"""Where the dashboard finds its chains: a devnet manifest (``accord devnet up``, ``accord
demo``) and the deployment manifests next to it, or named networks resolved like every other
command (``--network``). Re-read on every poll, so chains that appear later (the demo writes
its manifest after the dashboard starts) show up by themselves."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from accord.errors import AccordError


@dataclass(frozen=True)
class ChainSource:
    """One chain the dashboard reads: its RPC URL and the suite's addresses on it."""

    name: str
    rpc_url: str
    contracts: dict[str, str] = field(default_factory=dict)
    deployment: Path | None = None
    start_block: int = 0  # the first block of the deployment: event scans start there

    @property
    def key(self) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        return self.name, self.rpc_url, tuple(sorted(self.contracts.items()))


def _deployed(name: str, url: str, path: Path) -> ChainSource:
    """A chain with the addresses (and first block) of its deployment manifest, if any."""
    from accord.deploy.plan import read_manifest

    try:
        data = read_manifest(path)
    except AccordError:
        data = {}
    entries = [v for v in (data.get("contracts") or {}).values()
               if isinstance(v, dict) and "address" in v]
    contracts = {k: str(v["address"]) for k, v in (data.get("contracts") or {}).items()
                 if isinstance(v, dict) and "address" in v}
    start = min((int(v.get("block") or 0) for v in entries), default=0)
    return ChainSource(name, url, contracts, path, start)


class Source:
    """A devnet manifest (``manifest``) or a list of networks (``networks``)."""

    def __init__(self, manifest: Path | None = None, networks: tuple[str, ...] = ()) -> None:
        from accord.dev.devnet import manifest_path

        self.networks = networks
        self.manifest = Path(manifest) if manifest else manifest_path()
        # Devnet deployments, agent names and step names live next to the devnet manifest.
        self.state_root = self.manifest.parent

    def describe(self) -> str:
        return ", ".join(self.networks) if self.networks else str(self.manifest)

    def _deployment_path(self, name: str) -> Path:
        from accord.deploy.plan import manifest_path

        override = os.environ.get("ACCORD_DEPLOYMENTS_ROOT")
        return manifest_path("ethereum", name, Path(override) if override else self.state_root)

    def chains(self) -> list[ChainSource]:
        """The chains as configured right now (never raises for a missing manifest)."""
        if self.networks:
            from accord.deploy import context

            out = []
            for n in self.networks:
                try:
                    url = context.rpc_url(n)
                    path = context.deployment_path(n)
                except AccordError:
                    continue
                out.append(_deployed(n.split(":")[1] if ":" in n else n, url, path))
            return out
        from accord.dev.devnet import read_manifest

        try:
            chains = read_manifest(self.manifest)
        except AccordError:
            return []
        out = []
        for n, c in sorted(chains.items()):
            out.append(_deployed(n, c.rpc_url, self._deployment_path(n)))
        return out

    def fingerprint(self) -> tuple[float, ...]:
        """Changes whenever a manifest this source reads changes."""
        paths = [self.manifest] if not self.networks else []
        paths += [c.deployment for c in self.chains() if c.deployment is not None]
        out = []
        for p in paths:
            try:
                out.append(p.stat().st_mtime)
            except OSError:
                out.append(0.0)
        return tuple(out)
