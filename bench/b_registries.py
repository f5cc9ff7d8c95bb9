"""Gas of the ERC-8004 registries and AgentRoles, from receipts (gasUsed).

Conditions, chosen to match how the reference figures (erc-8004-contracts v2.0.0 on anvil
1.7.1, prague) are naturally measured:
- every ``register*`` is the first registration on a freshly deployed IdentityRegistry by an
  account holding no agent (so the id counter, owner and balance slots are all fresh);
- ``give_feedback_first`` is a client's first feedback for an agent (new client),
  ``give_feedback_next`` the same client's second;
- ``validation_request`` is a fresh request hash for an agent with no request yet, to a
  validator with none; ``validation_response_first`` / ``_update`` are its first and second
  answers;
- ``bond`` is an agent's first bond of a role, ``heartbeat`` its first heartbeat.
Strings: URI "ipfs://bafy..." of 59 characters, tags "quality" / "latency", endpoint
"https://agent.example/api" (25), feedback/request/response URIs the 59-character ipfs form,
every hash a 32-byte keccak, validation tag "soft-finality", metadata
{"name": b"translator-7", "version": b"1.4.2"}.

Two non-empty metadata values in fresh slots cost at least 2 x 22,100 gas more than
``register(uri)``; the reference's metadata figure is only 13,523 above its ``register(uri)``,
so it cannot have been measured under these conditions (empty values, or a registry in use,
reproduce it). The module prints the in-use figure for comparison.
"""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

from bench.common import BenchContext, gas

URI = ("ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")[:59]  # 59 chars
ENDPOINT = "https://agent.example/api"
ROLE = keccak(text="accord.role.translator")


def _uri(tag: str) -> str:
    base = URI[: -len(tag)] + tag
    assert len(base) == 59
    return base


assert len(URI) == 59


def run(ctx: BenchContext) -> dict[str, dict[str, Any]]:
    c = ctx.client
    deployer, client, validator = ctx.account(0), ctx.account(1), ctx.account(2)
    out: dict[str, int] = {}

    def fresh_identity() -> Any:
        identity, _ = c.deploy("IdentityRegistry", sender=deployer)
        return identity

    # -- identity ------------------------------------------------------------------------
    owners = [ctx.account(i) for i in (3, 4, 5)]
    reg = fresh_identity()
    out["register_plain"] = gas(c.transact(reg.functions.register(), owners[0]))
    reg = fresh_identity()
    out["register_uri"] = gas(c.transact(reg.functions.register(URI), owners[1]))
    reg = fresh_identity()
    metadata = [("name", b"translator-7"), ("version", b"1.4.2")]
    tx = c.transact(reg.functions.register(URI, metadata), owners[2])
    out["register_uri_metadata2"] = gas(tx)

    # the registry the other contracts use: agent 0 owned by owners[2]
    agent_owner, agent_id = owners[2], 0

    # -- reputation ----------------------------------------------------------------------
    rep, _ = c.deploy("ReputationRegistry", reg.address, sender=deployer)

    def feedback(n: int) -> int:
        fn = rep.functions.giveFeedback(agent_id, 87 + n, 0, "quality", "latency", ENDPOINT,
                                        _uri(f"f{n}"), keccak(text=f"feedback-{n}"))
        return gas(c.transact(fn, client))

    out["give_feedback_first"] = feedback(1)
    out["give_feedback_next"] = feedback(2)

    # -- validation ----------------------------------------------------------------------
    val, _ = c.deploy("ValidationRegistry", reg.address, sender=deployer)
    request_hash = keccak(text="request-1")
    out["validation_request"] = gas(c.transact(
        val.functions.validationRequest(validator.address, agent_id, _uri("rq1"), request_hash),
        agent_owner))
    out["validation_response_first"] = gas(c.transact(
        val.functions.validationResponse(request_hash, 100, _uri("rs1"), keccak(text="resp-1"),
                                         "soft-finality"), validator))
    out["validation_response_update"] = gas(c.transact(
        val.functions.validationResponse(request_hash, 95, _uri("rs2"), keccak(text="resp-2"),
                                         "soft-finality"), validator))

    # -- roles ---------------------------------------------------------------------------
    roles, _ = c.deploy("AgentRoles", reg.address, deployer.address, 7 * 86400, 3600,
                        7 * 86400, sender=deployer)
    c.transact(roles.functions.configureRole(ROLE, 10**17), deployer)
    out["bond"] = gas(c.transact(roles.functions.bond(agent_id, ROLE), agent_owner, value=10**17))
    out["heartbeat"] = gas(c.transact(roles.functions.heartbeat(agent_id), agent_owner))

    # Context only (not returned): the same metadata registration when the registry already
    # holds agents and the owner already holds one (id counter and balance slots warm).
    c.transact(reg.functions.register(), owners[0])
    steady = gas(c.transact(reg.functions.register(URI, metadata), owners[0]))
    print(f"   register_uri_metadata2 on a registry in use, owner's 2nd agent: {steady:,}")

    reference = {"register_plain": 123_983, "register_uri": 183_552,
                 "register_uri_metadata2": 197_075, "give_feedback_first": 212_267,
                 "give_feedback_next": 128_899, "validation_request": 209_243,
                 "validation_response_first": 131_442, "validation_response_update": 54_434}
    for key, ref in reference.items():
        print(f"   {key:<28} {out[key]:>9,}  reference {ref:>9,}  ({out[key] - ref:+,})")
    return {"gas": out}
