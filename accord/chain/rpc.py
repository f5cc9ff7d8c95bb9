"""Async JSON-RPC for the agent runtime: raw calls over one aiohttp session per chain, calls
encoded with eth_abi, transactions signed locally and sent per operator in nonce order.

Nonces come from :class:`accord.chain.client.Client` (thread-safe, per sender); signing and sending
are serialised per operator with an asyncio lock, so concurrent tasks of one operator never
send out of order. Receipts are awaited outside the lock (transactions pipeline).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import aiohttp
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector

from accord.chain.artifacts import artifact
from accord.chain.client import (
    ALREADY_SENT,
    RETRIED_NAMESPACES,
    Client,
    decode_revert,
    transient_error,
)
from accord.errors import ChainError, ContractRevert

TRANSPORT_ATTEMPTS = 5  # a dropped connection, HTTP 5xx or transient error: ask again


def _type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_type(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return str(item["type"])


class Abi:
    """Selectors and types of a contract's functions, for encoding without web3."""

    def __init__(self, contract_name: str) -> None:
        self.fns: dict[str, tuple[bytes, list[str], list[str]]] = {}
        self.components: dict[str, list[str]] = {}
        for item in artifact(contract_name).abi:
            if item.get("type") != "function":
                continue
            types = [_type(i) for i in item["inputs"]]
            outs = [_type(o) for o in item.get("outputs", [])]
            sel = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            self.fns.setdefault(item["name"], (sel, types, outs))
            outputs = item.get("outputs", [])
            if len(outputs) == 1 and outputs[0]["type"] == "tuple":
                self.components[item["name"]] = [c["name"] for c in outputs[0]["components"]]

    def encode(self, fn: str, *args: Any) -> bytes:
        sel, types, _ = self.fns[fn]
        return sel + abi_encode(types, list(args))

    def decode(self, fn: str, data: bytes) -> tuple[Any, ...]:
        return tuple(abi_decode(self.fns[fn][2], data))

    def decode_struct(self, fn: str, data: bytes) -> dict[str, Any]:
        """A function returning one struct, as a dict by component name."""
        (value,) = abi_decode(self.fns[fn][2], data)
        return dict(zip(self.components[fn], value, strict=True))


class AsyncChain:
    """One chain for asyncio code; wraps a sync :class:`Client` (for nonces and setup)."""

    def __init__(self, client: Client, *, receipt_poll_s: float = 0.002) -> None:
        self.client = client
        self.budget = client.budget  # one per endpoint: shared with the sync client
        self.url = client.rpc_url
        self.chain_id = client.chain_id
        self.receipt_poll_s = receipt_poll_s
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)
        self._locks: dict[str, asyncio.Lock] = {}
        self._fees: tuple[float, dict[str, int]] | None = None
        self._waiting: dict[str, list[asyncio.Future[dict[str, Any]]]] = {}
        self._poller: asyncio.Task[None] | None = None

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _post(self, body: Any, what: str) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64),
                timeout=aiohttp.ClientTimeout(total=30))
        last: Exception | None = None
        # eth_/net_/web3_ calls are safe to repeat (a raw tx too); test controls are not.
        attempts = TRANSPORT_ATTEMPTS if what.split("_")[0] in RETRIED_NAMESPACES else 1
        for i in range(attempts):
            await self.budget.take(len(body) if isinstance(body, list) else 1)
            try:
                async with self._session.post(self.url, json=body) as resp:
                    if resp.status >= 500:
                        raise aiohttp.ClientResponseError(
                            resp.request_info, resp.history, status=resp.status,
                            message=resp.reason or "")
                    reply = await resp.json(content_type=None)
                if not transient_error(reply) or i == attempts - 1:
                    return reply
            except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
                last = exc
            await asyncio.sleep(0.02 * 2 ** i)
        raise ChainError(f"{what} on {self.url} failed {attempts} times: {last}; "
                         "is the node running?") from last

    async def request(self, method: str, params: list[Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        reply = await self._post(body, method)
        err = reply.get("error")
        if err:
            data = err.get("data")
            if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
                raise decode_revert(data)
            raise ChainError(f"{method} on {self.url}: {err.get('message')}")
        return reply.get("result")

    async def call(self, to: str, data: bytes, *, sender: str | None = None,
                   block: str = "latest") -> bytes:
        tx: dict[str, Any] = {"to": to, "data": "0x" + data.hex()}
        if sender:
            tx["from"] = sender
        out = await self.request("eth_call", [tx, block])
        return bytes.fromhex(out[2:])

    async def block_timestamp(self) -> int:
        block = await self.request("eth_getBlockByNumber", ["latest", False])
        return int(block["timestamp"], 16)

    async def _fees_now(self) -> dict[str, int]:
        now = time.monotonic()
        if self._fees is None or now - self._fees[0] > 2.0:
            block = await self.request("eth_getBlockByNumber", ["latest", False])
            base = int(block.get("baseFeePerGas", "0x0"), 16)
            self._fees = (now, {"maxPriorityFeePerGas": 1, "maxFeePerGas": 3 * base + 1})
        return self._fees[1]

    async def send(self, sender: LocalAccount, to: str, data: bytes, *, gas: int,
                   value: int = 0) -> str:
        """Sign and send; returns the tx hash. Serialised per operator (nonce order)."""
        fees = await self._fees_now()
        lock = self._locks.setdefault(sender.address, asyncio.Lock())
        async with lock:
            if not self.client.knows_nonce(sender):  # read here: never block the loop
                self.client.seed_nonce(sender, int(await self.request(
                    "eth_getTransactionCount", [sender.address, "pending"]), 16))
            nonce = self.client.next_nonce(sender)
            tx = {"to": to, "data": data, "value": value, "gas": gas, "nonce": nonce,
                  "chainId": self.chain_id, "type": 2, **fees}
            signed = sender.sign_transaction(tx)  # type: ignore[arg-type]
            tx_hash = "0x" + bytes(signed.hash).hex()
            try:
                return str(await self.request("eth_sendRawTransaction",
                                              ["0x" + signed.raw_transaction.hex()]))
            except ChainError as exc:
                # A repeated send (a retry after a lost answer, a duplicated call) answers
                # "already known"/"nonce too low": the same transaction, not a failure.
                if any(m in str(exc).lower() for m in ALREADY_SENT) and await self._known(
                        tx_hash):
                    return tx_hash
                self.client.reset_nonce(sender)
                self._fees = None
                raise

    async def _known(self, tx_hash: str) -> bool:
        try:
            return await self.request("eth_getTransactionByHash", [tx_hash]) is not None
        except ChainError:
            return False

    async def receipt(self, tx_hash: str, timeout: float = 60.0) -> dict[str, Any]:
        """Wait for a receipt. Every waiting transaction of this chain is polled in ONE
        JSON-RPC batch per interval, so many in-flight transactions cost few requests."""
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(tx_hash, []).append(fut)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.ensure_future(self._poll_receipts())
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise ChainError(f"no receipt for {tx_hash} on {self.url} after {timeout:.0f}s") \
                from None
        finally:
            waiters = self._waiting.get(tx_hash)
            if waiters and fut in waiters:
                waiters.remove(fut)
                if not waiters:
                    del self._waiting[tx_hash]

    async def _poll_receipts(self) -> None:
        while self._waiting:
            hashes = list(self._waiting)
            batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_getTransactionReceipt",
                      "params": [h]} for i, h in enumerate(hashes)]
            try:
                replies = await self._post(batch, "eth_getTransactionReceipt")
            except ChainError as exc:
                for waiters in list(self._waiting.values()):
                    for fut in waiters:
                        if not fut.done():
                            fut.set_exception(exc)
                return
            for reply in replies if isinstance(replies, list) else []:
                got = reply.get("result")
                if got:
                    for fut in self._waiting.pop(hashes[int(reply["id"])], []):
                        if not fut.done():
                            fut.set_result(dict(got))
            await asyncio.sleep(self.receipt_poll_s)

    async def transact(self, sender: LocalAccount, to: str, data: bytes, *, gas: int,
                       value: int = 0, precheck: bool = False) -> dict[str, Any]:
        """Send and wait. A revert (found by the optional eth_call precheck, or a failed
        receipt replayed with eth_call) raises a decoded :class:`ContractRevert`."""
        if precheck:
            await self.call(to, data, sender=sender.address)
        tx_hash = await self.send(sender, to, data, gas=gas, value=value)
        return await self.outcome(sender, to, data, tx_hash)

    async def outcome(self, sender: LocalAccount, to: str, data: bytes,
                      tx_hash: str) -> dict[str, Any]:
        """The receipt of a sent transaction, or its decoded revert."""
        rcpt = await self.receipt(tx_hash)
        if int(rcpt["status"], 16) != 1:
            try:
                await self.call(to, data, sender=sender.address)
            except ContractRevert:
                raise
            raise ChainError(f"transaction {tx_hash} reverted on {self.url} (out of gas?)")
        return rcpt
