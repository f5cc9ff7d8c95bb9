"""`accord doctor`: lint a deployment and its links to other chains.

Every finding is one line that says what is wrong and how to fix it. Errors make the command
exit non-zero; warnings do not; info lines only report (who can slash bonds). Misconfiguration
between chains (an unset trusted remote, validator sets that disagree) is what leaves messages
stuck, so it is checked across chains.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from web3 import Web3
from web3.exceptions import Web3Exception

from accord.chain.client import Client

ZERO = "0x0000000000000000000000000000000000000000"
# Public testnets: an EOA admin there is a warning (a rehearsal), on other live chains an error.
TESTNET_CHAIN_IDS = {11155111, 84532, 17000, 560048, 421614, 11155420, 80002}


@dataclass(frozen=True)
class Finding:
    level: str  # "error" | "warning" | "info"
    network: str
    message: str

    def line(self) -> str:
        return f"{self.level}: [{self.network}] {self.message}"


@dataclass
class Deployed:
    """One network's deployment: its client, manifest and whether it is a live network."""

    network: str
    client: Client
    manifest: dict[str, object]
    live: bool

    def address(self, key: str) -> str | None:
        contracts = self.manifest.get("contracts") or {}
        rec = contracts.get(key) if isinstance(contracts, dict) else None
        return str(rec["address"]) if isinstance(rec, dict) else None


def check_code(d: Deployed) -> list[Finding]:
    out: list[Finding] = []
    contracts = d.manifest.get("contracts") or {}
    assert isinstance(contracts, dict)
    for key, rec in sorted(contracts.items()):
        code = d.client.w3.eth.get_code(Web3.to_checksum_address(rec["address"]))
        if not code:
            out.append(Finding("error", d.network, f"{key} has no code at {rec['address']}; "
                               f"redeploy with 'accord deploy --network {d.network}'"))
        elif Web3.keccak(code).hex().removeprefix("0x") != str(rec["code_hash"]).removeprefix(
                "0x"):
            out.append(Finding("error", d.network, f"{key} at {rec['address']} runs code that "
                               "differs from the manifest's code hash; redeploy it or restore "
                               "the manifest that matches"))
    return out


def check_admin(d: Deployed) -> list[Finding]:
    gw = d.address("gateway")
    if gw is None or not d.live:
        return []
    owner = d.client.contract("AccordGateway", gw).functions.owner().call()
    if not d.client.w3.eth.get_code(owner):
        level = "warning" if d.client.chain_id in TESTNET_CHAIN_IDS else "error"
        return [Finding(level, d.network, f"the gateway admin {owner} is a single EOA on a "
                        "live network; transfer ownership to a multisig or timelock")]
    return []


def _when(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def check_slashers(d: Deployed) -> list[Finding]:
    """Who can lock and slash bonds on AgentRoles (info), whether the deployment's coordinator
    is one of them (error if not, warning while its announcement is pending), slashers that are
    not this deployment's coordinator, and pending announcements of anyone (warnings: each
    becomes a slasher when its delay ends unless the admin cancels it)."""
    roles_addr, coord = d.address("roles"), d.address("coordinator")
    if roles_addr is None:
        return []
    roles = d.client.contract("AgentRoles", roles_addr)
    fns = roles.functions
    coord = Web3.to_checksum_address(coord) if coord else None
    slashers = [Web3.to_checksum_address(a) for a in fns.slashers().call()]
    names = [f"{a} (coordinator)" if a == coord else a for a in slashers]
    out = [Finding("info", d.network, "who can lock and slash bonds on roles: "
                   + (", ".join(names) or "nobody"))]
    for a in slashers:
        if a != coord:
            out.append(Finding("warning", d.network, f"{a} can lock and slash bonds on roles but "
                               "is not this deployment's coordinator; if it is retired, the admin "
                               "should call AgentRoles.removeSlasher"))
    announced: set[str] = set()
    contracts = d.manifest.get("contracts") or {}
    rec = contracts.get("roles") if isinstance(contracts, dict) else None
    from_block = int(rec.get("block", 0)) if isinstance(rec, dict) else 0
    try:
        logs = roles.events.SlasherAnnounced().get_logs(from_block=from_block)
        announced = {Web3.to_checksum_address(log["args"]["slasher"]) for log in logs}
    except (Web3Exception, ValueError) as exc:  # RPCs that cap log ranges
        out.append(Finding("info", d.network, f"could not scan SlasherAnnounced events from block "
                           f"{from_block} ({exc}); only the coordinator's announcement is checked"))
    if coord is not None:
        announced.add(coord)
    for who in sorted(announced):
        active_at = int(fns.slasherActiveAt(who).call())
        if active_at == 0:
            continue
        if who == coord:
            out.append(Finding("warning", d.network, f"the coordinator {who} is announced as a "
                               f"slasher but cannot lock or slash bonds before {_when(active_at)}; "
                               "rerun 'accord deploy' after that time"))
        else:
            out.append(Finding("warning", d.network, f"{who} is announced as a slasher and can be "
                               f"activated by anyone from {_when(active_at)}; if unexpected, the "
                               "admin should call AgentRoles.cancelSlasher"))
    if coord is not None and coord not in slashers and int(fns.slasherActiveAt(coord).call()) == 0:
        out.append(Finding("error", d.network, f"the coordinator {coord} is not a slasher on "
                           "roles: claims cannot lock stake; run 'accord deploy --network "
                           f"{d.network}' to announce it"))
    return out


def check_links(deployments: list[Deployed]) -> list[Finding]:
    out: list[Finding] = []
    # origin chain id -> {destination network: (validators, threshold)}
    seen: dict[int, dict[str, tuple[tuple[str, ...], int]]] = {}
    for here in deployments:
        gw_addr = here.address("gateway")
        if gw_addr is None:
            out.append(Finding("error", here.network, "no gateway in the manifest; run "
                               f"'accord deploy --network {here.network}'"))
            continue
        gw = here.client.contract("AccordGateway", gw_addr)
        for there in deployments:
            if there is here or there.address("gateway") is None:
                continue
            origin = there.client.chain_id
            trusted = gw.functions.trustedGateway(origin).call()
            _, threshold, size = gw.functions.originConfig(origin).call()
            fix = f"run 'accord link {here.network} {there.network}'"
            if Web3.to_checksum_address(trusted) == ZERO:
                out.append(Finding("error", here.network, f"no trusted gateway for "
                                   f"{there.network} (chain {origin}); {fix}"))
                continue
            if Web3.to_checksum_address(trusted) != Web3.to_checksum_address(
                    str(there.address("gateway"))):
                out.append(Finding("error", here.network, f"trusts {trusted} for "
                                   f"{there.network}, but its manifest says "
                                   f"{there.address('gateway')}; {fix}"))
            if threshold == 0 or size == 0:
                out.append(Finding("error", here.network, f"zero-threshold validator set for "
                                   f"{there.network}; {fix}"))
            elif threshold == 1 and size == 1:
                level = "error" if (here.live or there.live) else "warning"
                out.append(Finding(level, here.network, f"a 1-of-1 validator set guards "
                                   f"messages from {there.network}; configure at least 2-of-3 "
                                   "in ape-config.yaml and relink"))
            out += _check_price(here, there)
            vals = tuple(sorted(Web3.to_checksum_address(v)
                                for v in gw.functions.validators(origin).call()))
            seen.setdefault(origin, {})[here.network] = (vals, int(threshold))
    for origin, per_dest in seen.items():
        if len(set(per_dest.values())) > 1:
            names = ", ".join(sorted(per_dest))
            out.append(Finding("error", names, f"destinations disagree on the validator set "
                               f"or threshold for messages from chain {origin}; relink them "
                               "all in one 'accord link' command"))
    return out


def _check_price(here: Deployed, there: Deployed) -> list[Finding]:
    """A warning when ``here``'s gas paymaster quotes no price for ``there``: its senders
    cannot pay relayer fees for messages there, so relayers run with --fee-policy paid skip
    them (self-relay and --fee-policy any still deliver)."""
    pm = here.address("paymaster")
    if pm is None:
        return []
    dest = there.client.chain_id
    rate = here.client.contract("AccordGasPaymaster", pm).functions.gasOracle(dest).call()[0]
    if int(rate) != 0:
        return []
    return [Finding("warning", here.network, f"the gas paymaster has no price for "
                    f"{there.network} (chain {dest}): relayer fees for messages there cannot "
                    f"be paid; set accord.networks.{there.network}.gas_price in ape-config.yaml "
                    f"and run 'accord link {here.network} {there.network}'")]


def check_stuck(deployments: list[Deployed]) -> list[Finding]:
    """Warnings for remote workflow steps that are not moving: Ready with nobody dispatching,
    Dispatched with the task undelivered or waiting for its creator's deposit (see
    accord.workflows.stuck). A chain left out of ``--network`` is named by id in the reason."""
    from accord.workflows import stuck

    sides = [s for s in (stuck.side_of(d.network, d.client, d.manifest) for d in deployments)
             if s is not None]
    return [Finding("warning", net, why) for net, why in stuck.stuck_lines(sides)]


def diagnose(deployments: list[Deployed]) -> list[Finding]:
    findings: list[Finding] = []
    for d in deployments:
        findings += check_code(d)
        findings += check_admin(d)
        findings += check_slashers(d)
    if len(deployments) > 1:
        findings += check_links(deployments)
    if not any(f.level == "error" for f in findings):  # a broken deployment explains itself
        findings += check_stuck(deployments)
    return findings
