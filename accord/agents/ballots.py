"""Judges' votes signed off-chain (EIP-712), so that one transaction from anyone carries a
whole verdict (``WorkflowCoordinator.respondSigned``): the digest a judge signs, and the
``SignedVote`` tuple the coordinator takes. The domain and the ``Vote`` type are the
coordinator's (IWorkflowCoordinatorTypes.SignedVote); ``voteDigest`` on chain gives the same
digest, which a test checks."""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_typing import Hash32
from eth_utils import keccak

DOMAIN_NAME = "Accord WorkflowCoordinator"
DOMAIN_VERSION = "1"
_DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
_VOTE_TYPEHASH = keccak(
    text="Vote(uint256 runId,uint8 step,uint8 attempt,uint256 agentId,uint8 response)")


@dataclass(frozen=True)
class Vote:
    """One judge's answer on one attempt of a Submitted step."""

    run_id: int
    step: int
    attempt: int
    agent_id: int
    response: int


def vote_digest(chain_id: int, coordinator: str, vote: Vote) -> bytes:
    """The EIP-712 digest of ``vote`` for ``coordinator`` on ``chain_id``."""
    domain = keccak(encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                           [_DOMAIN_TYPEHASH, keccak(text=DOMAIN_NAME),
                            keccak(text=DOMAIN_VERSION), chain_id, coordinator]))
    struct = keccak(encode(["bytes32", "uint256", "uint8", "uint8", "uint256", "uint8"],
                           [_VOTE_TYPEHASH, vote.run_id, vote.step, vote.attempt,
                            vote.agent_id, vote.response]))
    return keccak(b"\x19\x01" + domain + struct)


def sign_vote(signer: LocalAccount, chain_id: int, coordinator: str,
              vote: Vote) -> tuple[int, int, str, bytes]:
    """``vote`` signed by ``signer`` (the judge agent's owner or operator), as the
    coordinator's ``SignedVote`` tuple (agentId, response, signer, signature)."""
    signed = signer.unsafe_sign_hash(Hash32(vote_digest(chain_id, coordinator, vote)))
    return (vote.agent_id, vote.response, signer.address, bytes(signed.signature))
