"""The funded accounts of a local devnet: anvil's default mnemonic and its first accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

# anvil's default mnemonic: its first DEV_ACCOUNTS accounts are funded with 10,000 ether on
# every devnet (0: deployer/admin, 3, 8, 21, 22: the demo's relayers, 5-7: gateway attesters,
# 10-20: demo agents).
# Devnets only; never use these keys anywhere else.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNTS = 24


def dev_account(index: int) -> LocalAccount:
    """The ``index``-th funded account of a devnet (anvil's default mnemonic)."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
