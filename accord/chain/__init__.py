"""Talking to one chain: a synchronous web3.py client (:mod:`.client`), the agents' async
JSON-RPC client (:mod:`.rpc`), event following with a persisted cursor (:mod:`.events`), the
compiled contracts (:mod:`.artifacts`), the typed Python mirror of every contract enum and
struct (:mod:`.types`) and the devnets' funded accounts (:mod:`.accounts`).

``accord.chain.Client`` and ``accord.chain.dev_account`` (the names scripts used before the
package was split) still resolve, imported on first use so that ``accord --help`` stays fast.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "Client":
        from accord.chain.client import Client

        return Client
    if name == "dev_account":
        from accord.chain.accounts import dev_account

        return dev_account
    raise AttributeError(f"module 'accord.chain' has no attribute {name!r}")
