"""Follow a contract's events: a WebSocket ``eth_subscribe("logs")`` when the node offers one
(anvil serves ws:// on its HTTP port), ``eth_getLogs`` polling otherwise. Either way the
follower first catches up from its cursor with ``eth_getLogs``, never hands the same log out
twice, and persists the cursor (the last block fully handled) so a restart resumes there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import event_abi_to_log_topic

from accord.chain.artifacts import artifact
from accord.chain.rpc import AsyncChain, _type
from accord.errors import ChainError

log = logging.getLogger("accord.agents.events")

GETLOGS_SPAN = 5_000


@dataclass(frozen=True)
class Event:
    name: str
    args: dict[str, Any]
    block: int
    log_index: int
    tx: str


class EventDecoder:
    """topic0 -> event, decoded with eth_abi (no web3 formatting on the hot path)."""

    def __init__(self, contract_name: str) -> None:
        # topic0 -> (name, indexed (name, type), the others' names, the others' types)
        self.events: dict[bytes, tuple[str, list[tuple[str, str]], list[str], list[str]]] = {}
        for item in artifact(contract_name).abi:
            if item.get("type") == "event":
                topic = bytes(event_abi_to_log_topic(item))  # type: ignore[arg-type]
                inputs = item["inputs"]
                indexed = [(i["name"], _type(i)) for i in inputs if i.get("indexed")]
                plain = [i for i in inputs if not i.get("indexed")]
                self.events[topic] = (item["name"], indexed, [i["name"] for i in plain],
                                      [_type(i) for i in plain])

    def topic(self, name: str) -> str:
        """The topic0 of event ``name``, as 0x hex (for eth_getLogs filters)."""
        for topic, (event, *_rest) in self.events.items():
            if event == name:
                return "0x" + topic.hex()
        raise KeyError(name)

    def decode(self, raw: dict[str, Any]) -> Event | None:
        topics = [bytes.fromhex(t[2:]) for t in raw["topics"]]
        if not topics or topics[0] not in self.events:
            return None
        name, indexed, plain_names, plain_types = self.events[topics[0]]
        args: dict[str, Any] = {}
        for (arg, typ), topic in zip(indexed, topics[1:], strict=False):
            args[arg] = abi_decode([typ], topic)[0] if typ not in ("string", "bytes") else topic
        data = bytes.fromhex(raw["data"][2:])
        for arg, value in zip(plain_names, abi_decode(plain_types, data), strict=True):
            args[arg] = value
        return Event(name, args, int(raw["blockNumber"], 16), int(raw["logIndex"], 16),
                      raw.get("transactionHash", ""))


class Cursor:
    """The last fully handled block, in a small JSON file (or in memory when path is None).

    The file also holds what the follower's owner needs to resume from that block without
    the events before it: ``snapshot()`` (the agent host's open runs, see
    :meth:`accord.agents.host.AgentHost.run`) is written with every block and read back
    as ``state``. ``state`` is None when the file is missing, unreadable or was written
    without one (an older Accord): the owner must then rebuild it from the chain.
    """

    def __init__(self, path: Path | None, start: int,
                 snapshot: Callable[[], Any] | None = None) -> None:
        self.path = path
        self.start = start
        self.block = start - 1
        self.state: Any = None
        self.snapshot = snapshot
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text())
                self.block = int(data["block"])
                self.state = data.get("state")
            except (ValueError, KeyError, TypeError):
                log.warning("cursor %s is unreadable; starting from block %d", path, start)

    def save(self, block: int, *, force: bool = False) -> None:
        if block <= self.block and not force:
            return
        self.block = block
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            data: dict[str, Any] = {"block": block}
            if self.snapshot is not None:
                data["state"] = self.snapshot()
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(self.path)


OnEvent = Callable[[Event], Awaitable[None] | None]


class EventFollower:
    def __init__(self, chain: AsyncChain, address: str, contract_name: str, *,
                 cursor: Cursor, ws: bool | None = None, poll_s: float = 0.05) -> None:
        self.chain = chain
        self.address = address
        self.decoder = EventDecoder(contract_name)
        self.cursor = cursor
        self.ws = ws  # None: try WebSocket, fall back to polling
        self.poll_s = poll_s
        self._seen: tuple[int, int] = (self.cursor.block, 1 << 62)
        self.mode = "starting"
        self.caught_up = asyncio.Event()

    async def _emit(self, raw: dict[str, Any], on_event: OnEvent) -> None:
        if raw.get("removed"):
            return
        key = (int(raw["blockNumber"], 16), int(raw["logIndex"], 16))
        if key <= self._seen:
            return
        self._seen = key
        ev = self.decoder.decode(raw)
        if ev is not None:
            out = on_event(ev)
            if out is not None:
                await out

    async def _catch_up(self, on_event: OnEvent) -> int:
        head = int(await self.chain.request("eth_blockNumber", []), 16)
        start = self.cursor.block + 1
        while start <= head:
            end = min(head, start + GETLOGS_SPAN - 1)
            logs = await self.chain.request("eth_getLogs", [{
                "address": self.address, "fromBlock": hex(start), "toBlock": hex(end)}])
            for raw in logs:
                await self._emit(raw, on_event)
            self.cursor.save(end)
            start = end + 1
        return head

    async def history(self, name: str, start: int, end: int) -> list[Event]:
        """The events ``name`` of blocks ``start``..``end`` (eth_getLogs filtered by topic,
        in spans of GETLOGS_SPAN blocks), in chain order."""
        topic = self.decoder.topic(name)
        found: list[Event] = []
        while start <= end:
            stop = min(end, start + GETLOGS_SPAN - 1)
            logs = await self.chain.request("eth_getLogs", [{
                "address": self.address, "fromBlock": hex(start), "toBlock": hex(stop),
                "topics": [topic]}])
            for raw in logs:
                ev = None if raw.get("removed") else self.decoder.decode(raw)
                if ev is not None:
                    found.append(ev)
            start = stop + 1
        return found

    async def run(self, on_event: OnEvent) -> None:
        """Deliver every event after the cursor to ``on_event`` in chain order, forever."""
        self._seen = max(self._seen, (self.cursor.block, 1 << 62))
        if self.ws is not False:
            try:
                await self._run_ws(on_event)
                return
            except (TimeoutError, OSError, ChainError, ImportError) as exc:
                if self.ws:
                    raise ChainError(f"WebSocket subscription to {self._ws_url()} failed: "
                                     f"{exc}") from exc
                log.info("no WebSocket at %s (%s); polling eth_getLogs", self._ws_url(), exc)
        await self._run_poll(on_event)

    def _ws_url(self) -> str:
        return self.chain.url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)

    async def _run_poll(self, on_event: OnEvent) -> None:
        self.mode = "polling"
        while True:
            await self._catch_up(on_event)
            self.caught_up.set()
            await asyncio.sleep(self.poll_s)

    async def _run_ws(self, on_event: OnEvent) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        try:
            async with asyncio.timeout(3):
                ws = await connect(self._ws_url(), max_size=None)
        except WebSocketException as exc:
            raise ChainError(str(exc)) from exc
        async with ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe",
                                      "params": ["logs", {"address": self.address}]}))
            async with asyncio.timeout(3):
                reply = json.loads(await ws.recv())
            if "error" in reply:
                raise ChainError(str(reply["error"]))
            self.mode = "websocket"
            # Subscribed first, then caught up: logs mined in between arrive twice and the
            # (block, logIndex) check drops the copy.
            buffered: list[dict[str, Any]] = []
            catch = asyncio.ensure_future(self._catch_up(on_event))
            while not catch.done():
                try:
                    async with asyncio.timeout(0.05):
                        msg = json.loads(await ws.recv())
                    buffered.append(msg["params"]["result"])
                except TimeoutError:
                    pass
            await catch
            for raw in buffered:
                await self._emit(raw, on_event)
            self.caught_up.set()
            try:
                async for message in ws:
                    msg = json.loads(message)
                    raw = msg.get("params", {}).get("result")
                    if raw is None:
                        continue
                    await self._emit(raw, on_event)
                    self.cursor.save(int(raw["blockNumber"], 16) - 1)
            except WebSocketException as exc:
                log.warning("WebSocket to %s closed (%s); resuming by polling", self._ws_url(),
                            exc)
        await self._run_poll(on_event)
