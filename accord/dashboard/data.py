"""What the dashboard shows, read from the chains themselves (no database).

One web3 client per chain (:class:`accord.chain.client.Client`; no ape provider switching). A small
in-memory index is built from events, scanned incrementally as blocks arrive: runs
(``RunStarted``), agents (``Registered``, ``URIUpdated``, ``MetadataSet``, ``Bonded``) and
cross-chain messages (``MessageSent``). Current state comes from view calls, reusing
:func:`accord.agents.status.snapshot` for a run's steps and :mod:`accord.trace` for the life
of a message. A chain that stops answering is shown offline with its last known data.

Every string that comes from a chain (agent URIs, metadata) is returned as data for the page
to show as text; nothing here formats HTML.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from accord.chain.types import (
    Bond,
    DefinitionInfo,
    RunInfo,
    StepSpec,
)
from accord.dashboard.source import ChainSource, Source

log = logging.getLogger("accord.dashboard")

SCAN_BLOCKS = 5_000  # blocks per eth_getLogs (public RPCs limit the range)
FINAL_MESSAGE = ("delivered",)


def _hex(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def _text(value: bytes) -> str:
    """Metadata bytes as text when they are UTF-8, else 0x-hex."""
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        return _hex(value)


def _role_names() -> dict[bytes, str]:
    from accord import settings

    try:
        cfg = settings.load()
    except Exception:  # no ape-config.yaml: show role ids
        return {}
    names = {*cfg.roles, cfg.validator_role}
    return {settings.role_id(n): n for n in names}


@dataclass
class ChainReader:
    """One chain: a client, its head, and the events indexed so far."""

    src: ChainSource
    client: Any = None
    chain_id: int | None = None
    online: bool = False
    head: int = -1
    now: int = 0
    cursor: int = -1
    runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    agents: dict[int, dict[str, Any]] = field(default_factory=dict)
    message_ids: list[str] = field(default_factory=list)
    defs: dict[bytes, list[StepSpec]] = field(default_factory=dict)  # definition id -> steps

    def contract(self, name: str, key: str) -> Any:
        addr = self.src.contracts.get(key)
        return self.client.contract(name, addr) if addr and self.client else None

    def poll(self) -> None:
        """Connect if needed, read the head; offline on any error."""
        from accord.chain.client import Client

        try:
            if self.client is None:
                self.client = Client(self.src.rpc_url, timeout=3)
                self.chain_id = self.client.chain_id
            head = int(self.client.w3.eth.block_number)
        except Exception:
            self.online = False
            self.client = None
            return
        self.online = True
        if head < self.cursor:  # the chain was restarted: forget its index
            self.reset()
        if head != self.head:
            self.head = head
            self.now = int(self.client.w3.eth.get_block(head)["timestamp"])

    def reset(self) -> None:
        self.cursor = -1
        self.runs.clear()
        self.agents.clear()
        self.message_ids.clear()
        self.defs.clear()

    def index(self) -> None:
        """Scan the events of the blocks since the last scan (from the deployment's first
        block), in ranges of SCAN_BLOCKS."""
        if self.cursor < 0:
            self.cursor = self.src.start_block - 1
        while self.online and self.head > self.cursor:
            self._scan(self.cursor + 1, min(self.head, self.cursor + SCAN_BLOCKS))

    def _scan(self, lo: int, hi: int) -> None:
        coord = self.contract("WorkflowCoordinator", "coordinator")
        if coord is not None:
            for ev in coord.events.RunStarted().get_logs(from_block=lo, to_block=hi):
                a = ev["args"]
                block = int(ev["blockNumber"])
                self.runs[int(a["runId"])] = {
                    "definition": bytes(a["definitionId"]), "creator": a["creator"],
                    "budget": int(a["budget"]), "block": block,
                    "started": int(self.client.w3.eth.get_block(block)["timestamp"])}
        ident = self.contract("IdentityRegistry", "identity")
        if ident is not None:
            for ev in ident.events.Registered().get_logs(from_block=lo, to_block=hi):
                a = ev["args"]
                self.agents[int(a["agentId"])] = {"uri": str(a["agentURI"]),
                                                  "owner": a["owner"], "metadata": {},
                                                  "roles": set()}
            for ev in ident.events.URIUpdated().get_logs(from_block=lo, to_block=hi):
                agent = self.agents.get(int(ev["args"]["agentId"]))
                if agent is not None:
                    agent["uri"] = str(ev["args"]["newURI"])
            for ev in ident.events.MetadataSet().get_logs(from_block=lo, to_block=hi):
                a = ev["args"]
                agent = self.agents.get(int(a["agentId"]))
                if agent is not None:
                    agent["metadata"][str(a["metadataKey"])] = _text(a["metadataValue"])
        roles = self.contract("AgentRoles", "roles")
        if roles is not None:
            for ev in roles.events.Bonded().get_logs(from_block=lo, to_block=hi):
                agent = self.agents.get(int(ev["args"]["agentId"]))
                if agent is not None:
                    agent["roles"].add(bytes(ev["args"]["role"]))
        gw = self.contract("AccordGateway", "gateway")
        if gw is not None:
            for ev in gw.events.MessageSent().get_logs(from_block=lo, to_block=hi):
                self.message_ids.append(_hex(ev["args"]["sendId"]))
        self.cursor = hi

    def steps(self, definition: bytes) -> list[StepSpec]:
        """A definition's step specs (immutable: read once)."""
        if definition not in self.defs:
            c = self.contract("WorkflowCoordinator", "coordinator").functions
            count = DefinitionInfo.from_abi(c.definitionInfo(definition).call()).stepCount
            self.defs[definition] = [StepSpec.from_abi(c.definitionStep(definition, i).call())
                                     for i in range(count)]
        return self.defs[definition]


class Dashboard:
    """The dashboard's data: chains, runs, one run's steps, agents, messages."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.readers: dict[str, ChainReader] = {}
        self.lock = threading.Lock()
        self.roles = _role_names()
        self._lives: dict[str, dict[str, Any]] = {}  # message id -> final life
        self._last: dict[tuple[str, str], Any] = {}  # (kind, chain) -> last good result
        self._relay_store: Any = None
        self._cards: dict[tuple[str, int, str], tuple[str, float]] = {}  # -> (name, read at)

    # -- polling ------------------------------------------------------------------------
    def refresh(self) -> tuple[Any, ...]:
        """Re-read the manifests, poll every chain's head, index new events. Returns a
        fingerprint that changes whenever anything shown may have changed."""
        with self.lock:
            wanted = {c.name: c for c in self.source.chains()}
            for name in list(self.readers):
                if name not in wanted or self.readers[name].src.key != wanted[name].key:
                    del self.readers[name]
            for name, src in wanted.items():
                self.readers.setdefault(name, ChainReader(src))
            for reader in self.readers.values():
                reader.poll()
                try:
                    reader.index()
                except Exception as exc:  # a chain going away mid-scan: retry next poll
                    log.debug("indexing %s failed: %s", reader.src.name, exc)
                    reader.online = False
                    reader.client = None
            return (self.source.fingerprint(),
                    tuple((n, r.online, r.head) for n, r in sorted(self.readers.items())))

    def _guard(self, kind: str, reader: ChainReader, fn: Any) -> Any:
        """fn() for an online chain; the last good result when it fails or is offline."""
        key = (kind, reader.src.name)
        if reader.online:
            try:
                self._last[key] = fn()
            except Exception as exc:
                log.debug("%s on %s failed: %s", kind, reader.src.name, exc)
        return self._last.get(key, [])

    # -- views ----------------------------------------------------------------------------
    def chains(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"name": n, "chainId": r.chain_id, "online": r.online, "head": r.head,
                     "time": r.now, "rpc": r.src.rpc_url,
                     "deployed": "coordinator" in r.src.contracts}
                    for n, r in sorted(self.readers.items())]

    def runs(self) -> list[dict[str, Any]]:
        with self.lock:
            out: list[dict[str, Any]] = []
            for reader in self.readers.values():
                out += self._guard("runs", reader, lambda r=reader: self._runs(r))
            return sorted(out, key=lambda r: (-r["started"], r["chain"], -r["id"]))

    def _runs(self, reader: ChainReader) -> list[dict[str, Any]]:
        c = reader.contract("WorkflowCoordinator", "coordinator")
        out = []
        for run_id, info in sorted(reader.runs.items()):
            run = RunInfo.from_abi(c.functions.runInfo(run_id).call())
            steps = reader.steps(info["definition"])
            meta = self._workflow_meta(info["definition"])
            router = reader.src.contracts.get("router", "")
            out.append({"chain": reader.src.name, "id": run_id, "state": run.state.label,
                        "definition": _hex(info["definition"]),
                        "workflow": str(meta.get("workflow", "")), "steps": len(steps),
                        "done": bin(run.doneMask).count("1"), "creator": info["creator"],
                        # opened by the router: a remote step of a run on another chain
                        "remote": str(info["creator"]).lower() == router.lower(),
                        "budget": str(info["budget"]), "block": info["block"],
                        "started": info["started"]})
        return out

    def _workflow_meta(self, definition: bytes) -> dict[str, Any]:
        from accord.workflows import catalog

        return catalog.load(definition, self.source.state_root / "workflows") or {}

    def run(self, chain: str, run_id: int) -> dict[str, Any] | None:
        """One run: every step with its dependencies, state, agent, lease end, attempts,
        result hash and votes, plus the run's cross-chain messages."""
        with self.lock:
            reader = self.readers.get(chain)
            if reader is None or run_id not in reader.runs:
                return None
            key = f"run:{run_id}"
            result: dict[str, Any] | None = self._guard(key, reader,
                                                        lambda: self._run(reader, run_id))
            return result or None

    def _run(self, reader: ChainReader, run_id: int) -> dict[str, Any]:
        from accord.workflows.status import snapshot

        coord_addr = reader.src.contracts["coordinator"]
        info = reader.runs[run_id]
        specs = reader.steps(info["definition"])
        snap = snapshot(reader.client, coord_addr, run_id,
                        names_root=self.source.state_root / "workflows")
        by_id = {r.chain_id: n for n, r in self.readers.items()}
        steps = []
        for row, spec in zip(snap.rows, specs, strict=True):
            chain_id = spec.chainId
            steps.append({
                "index": row.index, "name": row.name, "state": row.state,
                "deps": [i for i in range(64) if spec.deps >> i & 1],
                "role": self.roles.get(spec.role, _hex(spec.role)),
                "chain": reader.src.name if chain_id == reader.chain_id
                else by_id.get(chain_id, f"chain {chain_id}"),
                "agent": row.agent_id, "leaseEnd": row.lease_end,
                "attempts": row.attempts, "maxAttempts": row.max_attempts,
                "settled": row.settled, "result": row.result,
                "approvals": row.approvals, "rejections": row.rejections,
                "quorum": row.quorum})
        meta = self._workflow_meta(info["definition"])
        return {"chain": reader.src.name, "id": run_id, "state": snap.state,
                "definition": _hex(info["definition"]),
                "workflow": str(meta.get("workflow", "")), "escrow": str(snap.escrow),
                "time": reader.now, "steps": steps,
                "messages": self._run_messages(reader, run_id)}

    def _views(self) -> list[Any]:
        from accord.crosschain.trace import ChainView

        return [ChainView(n, r.client, r.src.contracts["gateway"], r.src.contracts.get("router"))
                for n, r in self.readers.items()
                if r.online and r.client is not None and "gateway" in r.src.contracts]

    def _run_messages(self, reader: ChainReader, run_id: int) -> list[dict[str, Any]]:
        from accord.crosschain.trace import run_messages

        views = self._views()
        home = next((v for v in views if v.name == reader.src.name), None)
        if home is None:
            return []
        found = run_messages(run_id, home, [v for v in views if v is not home])
        return [{**self._life(mid, views), "label": label} for label, mid in found]

    def _store(self) -> Any:
        """The relayers' stores next to the manifest (who attested), if any: the shared
        ``relay.sqlite``, each share-nothing relayer's ``relay-<from>-<to>.sqlite``, and
        the demo's relayer operators' (``operators/relayer-*/relay.sqlite``)."""
        from accord.crosschain.attestation_store import SqliteStore

        if self._relay_store is None:
            root = self.source.state_root
            paths = [p for p in [root / "relay.sqlite", *sorted(root.glob("relay-*.sqlite")),
                                 *sorted(root.glob("operators/relayer-*/relay.sqlite"))]
                     if p.is_file()]
            if paths:
                self._relay_store = _Stores([SqliteStore(p) for p in paths])
        return self._relay_store

    def _life(self, mid: str, views: list[Any]) -> dict[str, Any]:
        from accord.crosschain.trace import message_life

        if mid in self._lives:
            return self._lives[mid]
        life = message_life(mid, views, self._store())
        status = life.status
        if status == "unknown":
            status = "attested" if life.signers else "sent"
        out = {"id": life.id, "origin": life.origin, "destination": life.destination,
               "status": status, "signers": len(life.signers), "attempts": life.attempts,
               "sentAt": life.sent_at, "sentTx": life.sent_tx, "latency": life.latency_s,
               "bytes": life.payload_bytes}
        if status in FINAL_MESSAGE:
            self._lives[mid] = out
        return out

    def messages(self) -> list[dict[str, Any]]:
        """Every message sent by any gateway, with status, latency and the run it serves
        (newest first)."""
        with self.lock:
            views = self._views()
            out: list[dict[str, Any]] = []
            for reader in self.readers.values():
                out += self._guard("messages", reader, lambda r=reader: [
                    self._life(mid, views) for mid in r.message_ids])
            labels = self._labels(views)
            return sorted(({**m, "label": labels.get(m["id"], "")} for m in out),
                          key=lambda m: -(m["sentAt"] or 0))

    def _labels(self, views: list[Any]) -> dict[str, str]:
        """message id -> "chaina run 1: task step 5 ..." for every run with a router."""
        from accord.crosschain.trace import run_messages

        labels: dict[str, str] = {}
        for home in views:
            reader = self.readers[home.name]
            if not home.router:
                continue
            for run_id in reader.runs:
                key = (f"labels:{run_id}", home.name)
                try:
                    found = run_messages(run_id, home, [v for v in views if v is not home])
                    self._last[key] = found
                except Exception as exc:
                    log.debug("labels of run %s failed: %s", run_id, exc)
                for label, mid in self._last.get(key, []):
                    labels[mid] = f"{home.name} run {run_id}: {label}"
        return labels

    def agents(self) -> list[dict[str, Any]]:
        """Agents with roles, bond per role, liveness and reputation."""
        with self.lock:
            out: list[dict[str, Any]] = []
            for reader in self.readers.values():
                out += self._guard("agents", reader, lambda r=reader: self._agents(r))
            return out

    def _names(self, chain: str, identity: str) -> dict[int, str]:
        """Names the agent runtime recorded for agentIds it onboarded (off-chain labels)."""
        folder = self.source.state_root / "agents" / chain
        names: dict[int, str] = {}
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and data.get("identity") == identity and "agent_id" in data:
                names[int(data["agent_id"])] = path.stem
        return names

    def _card_name(self, reader: ChainReader, agent_id: int, uri: str) -> str:
        """The name on the agent's card (its agent URI, fetched like a result: ipfs:// through
        ACCORD_IPFS_GATEWAYS) if the card is that agent's; "" otherwise. Remembered per URI
        (a failed fetch is tried again after CARD_RETRY_S)."""
        import time

        from accord.agents.card import card_problems
        from accord.errors import AccordError
        from accord.workflows.result_store import ResultStore

        slot = (reader.src.name, agent_id, uri)
        known = self._cards.get(slot)
        if known is not None and (known[0] or time.monotonic() - known[1] < CARD_RETRY_S):
            return known[0]
        name = ""
        if uri and reader.chain_id is not None:
            try:
                card = json.loads(ResultStore(self.source.state_root / "results").get(uri))
                identity = reader.src.contracts.get("identity", "")
                if isinstance(card, dict) and not card_problems(card, agent_id, reader.chain_id,
                                                                identity):
                    # a stranger's text: printable characters only, and short
                    name = "".join(ch for ch in str(card["name"])
                                   if ch.isprintable())[:CARD_NAME_MAX]
            except (AccordError, ValueError, OSError, RecursionError):
                pass  # remembered as no name: a bad card costs one fetch per CARD_RETRY_S
        self._cards[slot] = (name, time.monotonic())
        return name

    def _agents(self, reader: ChainReader) -> list[dict[str, Any]]:
        roles_c = reader.contract("AgentRoles", "roles")
        rep = reader.contract("ReputationRegistry", "reputation")
        names = self._names(reader.src.name, reader.src.contracts.get("identity", ""))
        coordinator = reader.src.contracts.get("coordinator", "").lower()
        out = []
        for agent_id, a in sorted(reader.agents.items()):
            if str(a["owner"]).lower() == coordinator:
                continue  # the coordinator's own identity (it gives feedback), not a worker
            bonds = []
            for role in sorted(a["roles"]):
                active = Bond.from_abi(roles_c.functions.bondOf(agent_id, role).call()).active \
                    if roles_c else 0
                bonds.append({"role": self.roles.get(role, _hex(role)), "bond": str(active)})
            live_until = int(roles_c.functions.liveUntil(agent_id).call()) if roles_c else 0
            reputation = None
            if rep is not None:
                clients = rep.functions.getClients(agent_id).call()
                if clients:
                    count, value, decimals = rep.functions.getSummary(
                        agent_id, clients, "", "").call()
                    reputation = {"count": int(count),
                                  "value": str(int(value) / 10 ** int(decimals))}
            out.append({"chain": reader.src.name, "id": agent_id,
                        "name": names.get(agent_id) or self._card_name(reader, agent_id,
                                                                       str(a["uri"])),
                        "owner": a["owner"], "uri": a["uri"],
                        "metadata": [{"key": k, "value": v}
                                     for k, v in sorted(a["metadata"].items())],
                        "roles": bonds, "liveUntil": live_until,
                        "live": live_until > reader.now, "reputation": reputation})
        return out


#: How long the dashboard waits before fetching a card it could not read again.
CARD_RETRY_S = 30.0
#: The longest agent name the dashboard takes from a card.
CARD_NAME_MAX = 64


class _Stores:
    """Several relayers' stores read as one (what ``message_life`` asks of a store)."""

    def __init__(self, stores: list[Any]) -> None:
        self.stores = stores

    def attestations(self, key: str) -> dict[str, str]:
        merged: dict[str, str] = {}
        for store in self.stores:
            merged.update(store.attestations(key))
        return merged

    def message(self, message_id: str) -> Any:
        return next((m for m in (s.message(message_id) for s in self.stores) if m is not None),
                    None)
