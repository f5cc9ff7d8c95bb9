"""Values the registry fixtures deploy with and the tests assert against (not in conftest.py:
test modules import these by a name no other folder uses)."""

from __future__ import annotations

from eth_utils import keccak

AGENT_URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy5"
ROLE = keccak(text="accord.role.translator")
MIN_BOND = 10**17
UNBONDING_DELAY = 7 * 86400
HEARTBEAT_EXPIRY = 3600
SLASHER_DELAY = 8 * 86400
OTHER_ROLE = keccak(text="accord.role.verifier")
REASON = keccak(text="missed-lease")
ZERO = "0x0000000000000000000000000000000000000000"
