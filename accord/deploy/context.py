"""Resolve what a command talks to: a chain's RPC URL and a deployment's addresses.

A chain name resolves through the running devnet's manifest first (``accord devnet up``),
then ape-config.yaml's ``node`` URIs. A deployment is read from
``deployments/<ecosystem>_<network>.json``; devnet deployments (ephemeral chains) live under
the state directory instead, so they never dirty the repository.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from accord.deploy import plan as deploy
from accord.dev.devnet import read_manifest
from accord.errors import ConfigError
from accord.paths import ape_config, devnet_specs, project_root, state_dir


def parse_network(choice: str) -> tuple[str, str]:
    """(ecosystem, network) of a devnet name or an ape network choice (``base:sepolia:node``)."""
    parts = choice.split(":")
    if len(parts) == 1:
        return "ethereum", parts[0]
    if not parts[0] or not parts[1]:
        raise ConfigError(f"'{choice}' is not a network; use a devnet name (chaina) or an ape "
                          "network choice like ethereum:sepolia:node")
    return parts[0], parts[1]


# ape's own Ethereum networks: a bare name among these is a network, even before
# ape-config.yaml gives it an RPC (the error then says how to give it one).
APE_ETHEREUM_NETWORKS = ("mainnet", "sepolia", "holesky", "hoodi", "local")


def known_networks() -> list[str]:
    """Every network a bare name may mean: devnet chains (ape-config.yaml's and the running
    devnet's, forks included), ``node.ethereum.*`` of ape-config.yaml, and networks with a
    deployment manifest."""
    names = set(devnet_specs()) | set(read_manifest())
    names |= set((ape_config().get("node") or {}).get("ethereum") or {})
    for folder in _manifest_folders():
        names |= {p.stem.split("_", 1)[1] for p in folder.glob("ethereum_*.json")}
    return sorted(names)


def _manifest_folders() -> list[Path]:
    override = os.environ.get("ACCORD_DEPLOYMENTS_ROOT")
    roots = [Path(override)] if override else [state_dir(), project_root()]
    return [r / "deployments" for r in roots]


def check_network(chain: str) -> str:
    """``chain`` if it names a network Accord can resolve, else a one-line ConfigError that
    lists the known ones (a typo like 'chainc' must not read as 'deploy first').

    URLs and other ecosystems' choices (``base:sepolia``) pass: ape knows more networks than
    we list."""
    if chain.startswith(("http://", "https://", "ws://")):
        return chain
    ecosystem, network = parse_network(chain)
    if ecosystem != "ethereum" or network in APE_ETHEREUM_NETWORKS:
        return chain
    known = known_networks()
    if network not in known:
        raise ConfigError(f"unknown network '{network}'; known: {', '.join(known) or 'none'}"
                          f" (a new one needs node.ethereum.{network}.uri in ape-config.yaml)")
    return chain


def rpc_url(chain: str) -> str:
    """An RPC URL: a URL as given, a running devnet chain (``accord devnet up``), or the
    ``node.<ecosystem>.<network>.uri`` of ape-config.yaml."""
    if chain.startswith(("http://", "https://", "ws://")):
        return chain
    check_network(chain)
    ecosystem, network = parse_network(chain)
    running = read_manifest()
    if ecosystem == "ethereum" and network in running:
        return running[network].rpc_url
    node = ((ape_config().get("node") or {}).get(ecosystem) or {}).get(network) or {}
    if node.get("uri"):
        return str(node["uri"])
    hint = (f"start it with 'accord devnet up {network}'" if network in devnet_specs()
            else f"set node.{ecosystem}.{network}.uri in ape-config.yaml or pass --rpc")
    raise ConfigError(f"no RPC known for '{chain}'; {hint}")


def is_devnet(chain: str) -> bool:
    """A named devnet chain, or a local chain (fork) that `accord devnet` started."""
    return chain in devnet_specs() or chain in read_manifest()


def deployment_path(chain: str) -> Path:
    """``deployments/<ecosystem>_<network>.json`` (``ACCORD_DEPLOYMENTS_ROOT`` overrides the
    folder that holds ``deployments/``; devnets use the state directory)."""
    if chain.startswith(("http://", "https://", "ws://")):
        raise ConfigError(f"'{chain}' is an RPC URL, which names no deployment; name the "
                          "network (chaina, ethereum:sepolia) or pass the contract address "
                          "option (--gateway)")
    check_network(chain)
    ecosystem, network = parse_network(chain)
    override = os.environ.get("ACCORD_DEPLOYMENTS_ROOT")
    if override:
        return deploy.manifest_path(ecosystem, network, Path(override))
    root = state_dir() if is_devnet(chain) else project_root()
    return deploy.manifest_path(ecosystem, network, root)


def deployment(chain: str) -> dict[str, Any]:
    path = deployment_path(chain)
    data = deploy.read_manifest(path)
    if not data:
        raise ConfigError(f"no deployment manifest for '{chain}' at {path}; run "
                          f"'accord deploy --network {chain}' first")
    return data


def address(chain: str, key: str) -> str:
    contracts = deployment(chain).get("contracts", {})
    if key not in contracts:
        raise ConfigError(f"the deployment on '{chain}' has no '{key}'; rerun "
                          f"'accord deploy --network {chain}'")
    return str(contracts[key]["address"])


def checked_address(value: str, what: str) -> str:
    """``value`` as a checksummed address, or a one-line ConfigError naming ``what``.

    Mixed-case input must carry a valid EIP-55 checksum (a typo in one is caught there)."""
    from eth_utils import is_checksum_address, is_hex_address, to_checksum_address

    if not is_hex_address(value):
        raise ConfigError(f"{what} '{value}' is not an address; pass 0x followed by 40 hex "
                          "digits")
    if value[2:] != value[2:].lower() and value[2:] != value[2:].upper() \
            and not is_checksum_address(value):
        raise ConfigError(f"{what} '{value}' fails its EIP-55 checksum (a mistyped "
                          "character?); copy the address again, or pass it all lowercase")
    return str(to_checksum_address(value))


def require_code(client: Any, addr: str, what: str) -> str:
    """``addr`` if it holds contract code on ``client``'s chain, else a one-line ConfigError."""
    if not client.w3.eth.get_code(addr):
        raise ConfigError(f"no contract at {what} {addr} on chain {client.chain_id}; check the "
                          "address, or redeploy if the chain was restarted since "
                          "('accord deploy --network <name>')")
    return addr


def deployed(client: Any, chain: str, key: str, override: str | None = None,
             option: str = "") -> str:
    """The address of ``key`` for ``chain``: ``override`` (a command-line address, checked)
    or the deployment manifest's, after checking that the node answering is the chain the
    manifest was written for and that the address holds code."""
    if override is not None:
        return require_code(client, checked_address(override, option or key), option or key)
    data = deployment(chain)
    recorded = data.get("chain_id")
    if recorded is not None and int(recorded) != client.chain_id:
        raise ConfigError(f"the deployment manifest of '{chain}' ({deployment_path(chain)}) is "
                          f"for chain id {recorded}, but {client.rpc_url} answers "
                          f"{client.chain_id}; pass the right --network or --rpc")
    return require_code(client, checked_address(address(chain, key), f"manifest '{key}'"),
                        f"the deployment's {key}")


def ape_account(alias: str) -> LocalAccount:
    """An ape keyfile account (``ape accounts import ALIAS``), unlocked with the passphrase in
    ``APE_ACCOUNTS_<ALIAS>_PASSPHRASE`` (ape's own variable) for automation."""
    import json

    folder = Path(os.environ.get("APE_DATA_FOLDER", Path.home() / ".ape")) / "accounts"
    path = folder / f"{alias}.json"
    if not path.is_file():
        raise ConfigError(f"no ape account '{alias}' in {folder}; create it with "
                          f"'ape accounts import {alias}'")
    var = f"APE_ACCOUNTS_{alias}_PASSPHRASE"
    passphrase = os.environ.get(var)
    if passphrase is None:
        raise ConfigError(f"set {var} to the passphrase of ape account '{alias}'")
    try:
        key = Account.decrypt(json.loads(path.read_text()), passphrase)
    except ValueError as exc:
        raise ConfigError(f"wrong passphrase for ape account '{alias}' (from {var})") from exc
    return Account.from_key(key)


def signer(key_env: str | None, dev_index: int | None, chain: str,
           account: str | None = None) -> LocalAccount:
    """A signing account: an ape account alias, a key from an environment variable (never the
    command line), or, on devnets only, one of anvil's funded dev accounts."""
    check_network(chain)
    if account:
        return ape_account(account)
    if key_env:
        raw = os.environ.get(key_env)
        if not raw:
            raise ConfigError(f"environment variable {key_env} is empty; export the private "
                              "key there (never pass keys on the command line)")
        try:
            return Account.from_key(raw)
        except ValueError as exc:
            raise ConfigError(f"{key_env} does not hold a valid private key") from exc
    if dev_index is not None:
        if not is_devnet(chain):
            raise ConfigError("--dev-account is for devnets only; use --key-env on "
                              f"'{chain}'")
        from accord.chain.accounts import dev_account

        return dev_account(dev_index)
    raise ConfigError("no signer: pass --key-env VAR (or --dev-account N on a devnet)")
