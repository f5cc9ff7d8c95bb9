"""A small web3.py client per chain: local signing with its own nonces, deploys, reverts
decoded into typed errors. Used by every long-running or multi-chain part of Accord
(ape's provider context is global and not safe across threads or tasks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from eth_abi import decode as abi_decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound
from web3.providers.rpc import HTTPProvider
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from web3.types import RPCEndpoint, RPCResponse, TxReceipt

from accord.chain.artifacts import all_errors_abi, artifact
from accord.chain.budget import RequestBudget
from accord.errors import ChainError, ContractRevert

Account.enable_unaudited_hdwallet_features()

T = TypeVar("T")

# Transport failures (a dropped connection, HTTP 5xx, a timeout) are retried by the provider
# with exponential backoff. Only the standard namespaces, whose every method is safe to
# repeat (a raw transaction has one hash); never evm_/anvil_ controls (evm_mine twice would
# mine twice).
RETRIED_NAMESPACES = ("eth", "net", "web3")
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError, requests.ConnectionError, requests.HTTPError, requests.Timeout)
RETRY = ExceptionRetryConfiguration(errors=TRANSPORT_ERRORS, retries=5, backoff_factor=0.05,
                                    method_allowlist=list(RETRIED_NAMESPACES))
# JSON-RPC errors that say "the node failed this time", not "your call is wrong": internal
# error and limit exceeded, without revert data (a revert carries its data), unless the node
# says the call ran out of gas (anvil answers an eth_call that did with -32603 "EVM error
# OutOfGas": asking again gets the same answer).
TRANSIENT_CODES = frozenset({-32603, -32005})
TRANSIENT_ATTEMPTS = 5


def transient_error(reply: Any) -> bool:
    """Whether a JSON-RPC reply (or a batch of them) failed in a way worth asking again."""
    if isinstance(reply, list):
        return any(transient_error(r) for r in reply)
    err = reply.get("error") if isinstance(reply, dict) else None
    if not isinstance(err, dict) or err.get("code") not in TRANSIENT_CODES or err.get("data"):
        return False
    return "outofgas" not in str(err.get("message", "")).lower().replace(" ", "")


class RetryingHTTPProvider(HTTPProvider):
    """web3's HTTP provider, also asking again (with backoff) when the node answers with a
    transient JSON-RPC error; transport errors are retried by the base class (RETRY). Every
    request waits for its turn in ``budget``."""

    def __init__(self, *args: Any, budget: RequestBudget, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        attempts = TRANSIENT_ATTEMPTS if method.split("_")[0] in RETRIED_NAMESPACES else 1
        for i in range(attempts):
            self.budget.wait()
            reply = super().make_request(method, params)
            if not transient_error(reply) or i == attempts - 1:
                return reply
            time.sleep(0.02 * 2 ** i)
        raise AssertionError("unreachable")

    def make_batch_request(self, batch_requests: list[tuple[RPCEndpoint, Any]]
                           ) -> list[RPCResponse] | RPCResponse:
        self.budget.wait(len(batch_requests))  # a batch counts each of its calls
        return super().make_batch_request(batch_requests)


# What a node answers when a transaction it already has is sent again (a retried or
# duplicated eth_sendRawTransaction): success if the node knows our transaction's hash.
ALREADY_SENT = ("already known", "known transaction", "nonce too low", "already imported",
                "replacement transaction underpriced")


def with_retries(fn: Callable[[], T], what: str, attempts: int = 8,
                 first_wait_s: float = 0.1) -> T:
    """``fn()``, retried with exponential backoff when a call fails (a flaky node answers a
    call with an error now and then); the last failure becomes a ChainError naming ``what``."""
    for i in range(attempts):
        try:
            return fn()
        except ContractRevert:
            raise
        except Exception as exc:
            if i == attempts - 1:
                raise ChainError(f"{what} failed {attempts} times (last: {exc}); check the "
                                 "node and retry") from exc
            time.sleep(first_wait_s * 2 ** i)
    raise AssertionError("unreachable")



def _error_table() -> dict[bytes, tuple[str, list[str]]]:
    table: dict[bytes, tuple[str, list[str]]] = {}
    for item in all_errors_abi():
        types = [i["type"] if i["type"] != "tuple" else _tuple_type(i) for i in item["inputs"]]
        sel = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
        table[sel] = (item["name"], types)
    table[bytes.fromhex("08c379a0")] = ("Error", ["string"])
    table[bytes.fromhex("4e487b71")] = ("Panic", ["uint256"])
    return table


def _tuple_type(item: dict[str, Any]) -> str:
    inner = ",".join(c["type"] if c["type"] != "tuple" else _tuple_type(c)
                     for c in item["components"])
    return f"({inner})"


_ERRORS: dict[bytes, tuple[str, list[str]]] | None = None


def decode_revert(data: str | bytes) -> ContractRevert:
    """Turn revert data into a ContractRevert carrying the custom error's name and args."""
    global _ERRORS
    if _ERRORS is None:
        _ERRORS = _error_table()
    raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(
        data, str) else data
    hexdata = "0x" + raw.hex()
    if len(raw) < 4 or raw[:4] not in _ERRORS:
        return ContractRevert("UnknownError", (hexdata,), hexdata)
    name, types = _ERRORS[raw[:4]]
    try:
        args = tuple(abi_decode(types, raw[4:]))
    except Exception:  # malformed payload: keep the raw data
        args = (hexdata,)
    return ContractRevert(name, args, hexdata)


def _revert_from(exc: Exception) -> ContractRevert | None:
    data = getattr(exc, "data", None)
    if isinstance(exc, (ContractCustomError, ContractLogicError)) and isinstance(data, str):
        return decode_revert(data)
    if isinstance(data, str) and data.startswith("0x"):
        return decode_revert(data)
    return None


class Client:
    """One chain, one web3 instance, signing locally with per-sender nonces."""

    def __init__(self, rpc_url: str, *, timeout: float = 30.0, confirmations: int = 0,
                 connect_attempts: int = 3, max_rps: float | None = None) -> None:
        self.rpc_url = rpc_url
        self.confirmations = confirmations
        self.budget = RequestBudget(max_rps)  # at most max_rps requests/s, sync and async
        self.provider = RetryingHTTPProvider(rpc_url, request_kwargs={"timeout": timeout},
                                             exception_retry_configuration=RETRY,
                                             budget=self.budget)
        self.w3 = Web3(self.provider)
        self._nonces: dict[str, int] = {}
        self._contracts: dict[tuple[str, str], Contract] = {}
        self._lock = threading.Lock()
        self.chain_id = self._chain_id(connect_attempts)

    def _chain_id(self, attempts: int) -> int:
        """eth_chainId, asked up to ``attempts`` times (a node behind a flaky link may fail
        a call or two: that is not 'unreachable')."""
        for i in range(attempts):
            try:
                return int(self.w3.eth.chain_id)
            except Exception as exc:  # requests/aiohttp/OS errors all mean "not reachable"
                if i == attempts - 1 or isinstance(exc, TRANSPORT_ERRORS):
                    raise ChainError(
                        f"cannot reach the node at {self.rpc_url} ({type(exc).__name__}); "
                        "is it running? local chains start with 'accord devnet up'") from exc
                time.sleep(0.1 * 2 ** i)
        raise AssertionError("unreachable")

    # -- contracts -----------------------------------------------------------------------
    def contract(self, name: str, address: str) -> Contract:
        """A web3 contract for ``name``'s ABI at ``address``, built once per client (building
        one parses the ABI: ~3 ms for the coordinator's)."""
        key = (name, address.lower())
        if key not in self._contracts:
            self._contracts[key] = self.w3.eth.contract(
                address=Web3.to_checksum_address(address), abi=artifact(name).abi)
        return self._contracts[key]

    def deploy(self, name: str, *args: Any, sender: LocalAccount,
               value: int = 0) -> tuple[Contract, TxReceipt]:
        art = artifact(name)
        factory = self.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        tx = factory.constructor(*args).build_transaction(self._base_tx(sender, value))
        receipt = self.send(tx, sender)
        return self.contract(name, receipt["contractAddress"]), receipt

    # -- transactions --------------------------------------------------------------------
    def next_nonce(self, sender: LocalAccount) -> int:
        with self._lock:
            if sender.address not in self._nonces:
                self._nonces[sender.address] = self.w3.eth.get_transaction_count(
                    sender.address, "pending")
            nonce = self._nonces[sender.address]
            self._nonces[sender.address] = nonce + 1
            return nonce

    def knows_nonce(self, sender: LocalAccount) -> bool:
        """Whether the next nonce of ``sender`` is known here (no request needed)."""
        with self._lock:
            return sender.address in self._nonces

    def seed_nonce(self, sender: LocalAccount, nonce: int) -> None:
        """Start counting ``sender``'s nonces at ``nonce`` unless they are counted already
        (the async side reads the pending count without blocking its loop)."""
        with self._lock:
            self._nonces.setdefault(sender.address, nonce)

    def reset_nonce(self, sender: LocalAccount) -> None:
        with self._lock:
            self._nonces.pop(sender.address, None)

    def _base_tx(self, sender: LocalAccount, value: int = 0) -> dict[str, Any]:
        return {"from": sender.address, "value": value, "chainId": self.chain_id}

    def transact(self, fn: Any, sender: LocalAccount, *, value: int = 0,
                 gas: int | None = None, wait: bool = True) -> Any:
        """Estimate (raising a decoded ContractRevert), sign, send; wait for the receipt."""
        params = self._base_tx(sender, value)
        try:
            params["gas"] = gas or int(fn.estimate_gas(params) * 1.2) + 10_000
        except Exception as exc:
            revert = _revert_from(exc)
            if revert is not None:
                raise revert from None
            raise ChainError(f"cannot estimate gas on {self.rpc_url}: {exc}") from exc
        tx = fn.build_transaction(params)
        return self.send(tx, sender, wait=wait)

    def fees(self) -> dict[str, int]:
        """EIP-1559 fee fields good for the next few blocks (twice the current base fee)."""
        block = self.w3.provider.make_request(RPCEndpoint("eth_getBlockByNumber"),
                                              ["latest", False])
        if not block.get("result"):
            raise ChainError(f"cannot read the latest block on {self.rpc_url}: "
                             f"{block.get('error')}; retry")
        base = int(block["result"].get("baseFeePerGas", "0x0"), 16)
        return {"maxPriorityFeePerGas": 1, "maxFeePerGas": 2 * base + 1}

    def call_many(self, calls: list[tuple[str, bytes]]) -> list[bytes | None]:
        """``eth_call`` each ``(to, calldata)`` at the latest block in one JSON-RPC batch,
        without web3's contract layer (which cost more than the node on a relayer's hot
        path); returns each call's return data, None for a call the node answered with an
        error. Raises ChainError when the batch as a whole fails."""
        try:
            replies = self.provider.make_batch_request([
                (RPCEndpoint("eth_call"), [{"to": to, "data": "0x" + data.hex()}, "latest"])
                for to, data in calls])
        except Exception as exc:  # noqa: BLE001 (transport: the provider retried already)
            raise ChainError(f"a batch of {len(calls)} calls to {self.rpc_url} failed: {exc}"
                             ) from exc
        if not isinstance(replies, list) or len(replies) != len(calls):
            raise ChainError(f"{self.rpc_url} answered a batch of {len(calls)} calls with "
                             f"{replies!r:.200}; retry")
        out: list[bytes | None] = []
        for reply in replies:  # web3 orders the answers as the calls
            result = reply.get("result") if isinstance(reply, dict) else None
            out.append(bytes.fromhex(result[2:]) if isinstance(result, str)
                       and result.startswith("0x") else None)
        return out

    def raw_receipt(self, tx_hash: bytes | str, timeout: float = 60.0,
                    poll_s: float = 0.005) -> dict[str, Any]:
        """The receipt as the node's raw JSON (no web3 formatting: fast for hot loops)."""
        h = tx_hash if isinstance(tx_hash, str) else "0x" + bytes(tx_hash).hex()
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self.w3.provider.make_request(RPCEndpoint("eth_getTransactionReceipt"),
                                                      [h])
            except TRANSPORT_ERRORS:
                reply = {}  # the provider's retries ran out: keep polling until the deadline
            if reply.get("result"):
                return dict(reply["result"])
            if time.monotonic() > deadline:
                raise ChainError(f"no receipt for {h} on {self.rpc_url} after {timeout:.0f}s")
            time.sleep(poll_s)

    def send(self, tx: dict[str, Any], sender: LocalAccount, *, wait: bool = True) -> Any:
        tx = dict(tx)
        tx.setdefault("nonce", self.next_nonce(sender))
        if "gasPrice" not in tx and "maxFeePerGas" not in tx:
            tx.update(self.fees())
        signed = sender.sign_transaction(tx)
        try:
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        except Exception as exc:
            if not self._node_has(signed.hash, exc):
                self.reset_nonce(sender)
                raise ChainError(f"transaction rejected by {self.rpc_url}: {exc}") from exc
            tx_hash = signed.hash  # sent before (a retried or duplicated call): not an error
        if not wait:
            return tx_hash
        receipt = self.wait_receipt(tx_hash)
        if receipt["status"] != 1:
            raise ChainError(f"transaction {tx_hash.hex()} reverted on {self.rpc_url}")
        if self.confirmations:
            self.wait_confirmations(int(receipt["blockNumber"]))
        return receipt

    def _node_has(self, tx_hash: bytes, exc: Exception) -> bool:
        """Whether a failed send did reach the node: it answered "already known"/"nonce too
        low" to a repeat, or the call's answer was lost. Asks the node for the hash."""
        text = str(exc).lower()
        if not (isinstance(exc, TRANSPORT_ERRORS) or any(s in text for s in ALREADY_SENT)):
            return False
        for _ in range(3):
            try:
                self.w3.eth.get_transaction(HexBytes(tx_hash))
                return True
            except TransactionNotFound:
                return False
            except Exception:  # noqa: S112 (a flaky link: ask again)
                time.sleep(0.05)
        return False

    def wait_receipt(self, tx_hash: bytes, timeout: float = 60.0) -> TxReceipt:
        """The receipt, polling through 'not found yet' and transient call failures."""
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                return self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                pass
            except Exception as exc:  # a failed call, not a failed transaction: poll again
                last = exc
            time.sleep(0.01)
        raise ChainError(f"no receipt for 0x{bytes(tx_hash).hex()} on {self.rpc_url} after "
                         f"{timeout:.0f}s (last error: {last}); is the node mining?")

    def wait_confirmations(self, block: int, timeout: float = 600.0) -> None:
        """Wait until ``block`` is buried under ``self.confirmations`` blocks."""
        deadline = time.monotonic() + timeout
        while self.w3.eth.block_number < block + self.confirmations:
            if time.monotonic() > deadline:
                raise ChainError(f"block {block} did not reach {self.confirmations} "
                                 f"confirmations on {self.rpc_url} within {timeout:.0f}s")
            time.sleep(0.2)
