"""Why did a recipient fail? Simulating the gateway's call to it, for free, with eth_call.

After a delivery failed, the gateway only recorded ``keccak256(revert data)``: a recipient
that refused on purpose and one that ran out of gas look alike there (out of gas leaves no
data). :func:`probe` replays the recipient call exactly as ``AccordGateway`` makes it
(``from`` the gateway, the same calldata, the same gas for the callee) at the gas the
message had and, when that fails, at the most gas a retry may get; so the relayer can tell
"refuses" (retry later at the same gas, never with more) from "needs about N gas" (retry
with N, if affordable) from "out of gas even at the cap" (give up).

A simulation runs on the latest state with ``tx.origin`` the gateway, not the relayer: a
recipient that behaves differently on chain can fool it, which is why the relayer also
counts what it really spent and gives up after a few tries.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from eth_utils import to_canonical_address
from web3.types import RPCEndpoint

from accord.chain.client import Client, decode_revert
from accord.crosschain.messages import RECEIVE_MESSAGE_SELECTOR, encode_interop_address


class Verdict(Enum):
    ACCEPTS = "accepts"        # the recipient takes the message now, with the gas it had
    NEEDS_GAS = "needs gas"    # it fails with the gas it had, accepts with ``needed``
    REFUSES = "refuses"        # it reverts (or answers wrongly) whatever its gas: on purpose
    OUT_OF_GAS = "out of gas"  # it fails without revert data even with the most gas tried
    UNKNOWN = "unknown"        # the node gave no usable answer (ask again later)


@dataclass(frozen=True)
class Diagnosis:
    verdict: Verdict
    gas: int                 # recipient gas of the simulation the verdict rests on
    needed: int = 0          # ACCEPTS / NEEDS_GAS: about the gas its success takes
    reason: str = ""         # REFUSES / UNKNOWN: what it said, decoded where possible


@dataclass(frozen=True)
class _Outcome:
    kind: str                # "ok", "revert" (with or without data), "oog", "error"
    data: bytes = b""
    message: str = ""

    @property
    def accepted(self) -> bool:
        return (self.kind == "ok" and len(self.data) >= 32
                and self.data[:4] == RECEIVE_MESSAGE_SELECTOR)


def receive_calldata(message_id: str, body: dict[str, Any]) -> bytes:
    """``receiveMessage(id, sender, payload)`` byte for byte as ``AccordGateway`` builds it
    in ``_dispatchToRecipient`` (the sender in two words, the payload at offset 0xc0)."""
    sender = encode_interop_address(int(body["originChainId"]), str(body["sender"]))
    payload = bytes.fromhex(str(body["payload"])[2:])
    padded = payload + b"\x00" * (-len(payload) % 32)
    return (RECEIVE_MESSAGE_SELECTOR + bytes.fromhex(message_id[2:])
            + (0x60).to_bytes(32, "big") + (0xC0).to_bytes(32, "big")
            + len(sender).to_bytes(32, "big") + sender.ljust(64, b"\x00")
            + len(payload).to_bytes(32, "big") + padded)


def _intrinsic(data: bytes) -> tuple[int, int]:
    """(intrinsic gas, EIP-7623 floor) of a call transaction with ``data`` (prague)."""
    zeros = data.count(0)
    nonzero = len(data) - zeros
    return 21_000 + 4 * zeros + 16 * nonzero, 21_000 + 10 * (zeros + 4 * nonzero)


def _tx(gateway: str, recipient: str, data: bytes, gas: int) -> dict[str, str]:
    """A call in which the recipient's frame gets ``gas``, as the gateway's CALL gives it."""
    intrinsic, floor = _intrinsic(data)
    return {"from": gateway, "to": recipient, "data": "0x" + data.hex(),
            "gas": hex(max(gas + intrinsic, floor))}


def _call(client: Client, tx: dict[str, str]) -> _Outcome:
    reply = client.w3.provider.make_request(RPCEndpoint("eth_call"), [tx, "latest"])
    if "result" in reply:
        return _Outcome("ok", bytes.fromhex(str(reply["result"])[2:]))
    err: Any = reply.get("error") or {}
    message = str(err.get("message", err)) if isinstance(err, dict) else str(err)
    data = err.get("data") if isinstance(err, dict) else None
    if isinstance(data, str) and data.startswith("0x") and len(data) > 2:
        return _Outcome("revert", bytes.fromhex(data[2:]), message)
    squashed = message.lower().replace(" ", "")
    if "outofgas" in squashed:  # anvil: "EVM error OutOfGas"; geth: "out of gas"
        return _Outcome("oog", message=message)
    if "revert" in squashed:     # a bare revert(): no data
        return _Outcome("revert", message=message)
    return _Outcome("error", message=message)


def _needed(client: Client, tx: dict[str, str], at_most: int) -> int:
    """The recipient gas its success takes (eth_estimateGas, less the intrinsic gas), or
    ``at_most`` when the node cannot say."""
    reply = client.w3.provider.make_request(RPCEndpoint("eth_estimateGas"), [tx, "latest"])
    if "result" not in reply:
        return at_most
    intrinsic, _ = _intrinsic(bytes.fromhex(tx["data"][2:]))
    return min(max(int(str(reply["result"]), 16) - intrinsic, 0), at_most)


def describe_revert(data: bytes) -> str:
    """``0x08c379a0: Error('not ready')``: the selector, then the error decoded if any
    compiled contract (or Solidity) defines it."""
    if not data:
        return "no revert data"
    got = decode_revert(data)
    head = "0x" + data[:4].hex()
    if got.name == "UnknownError":
        return f"{head}, {len(data)} bytes"
    shown = ", ".join("0x" + bytes(a).hex() if isinstance(a, bytes | bytearray) else repr(a)
                      for a in got.args_)
    text = f"{head}: {got.name}({shown})"
    return text if len(text) <= 160 else text[:157] + "..."


def _refusal(outcome: _Outcome) -> str:
    if outcome.kind == "ok":
        return (f"answered 0x{outcome.data[:4].hex() or ''} instead of receiveMessage's "
                "selector")
    return describe_revert(outcome.data) if outcome.data else "reverted without data"


def probe(client: Client, gateway: str, message_id: str, body: dict[str, Any], gas: int,
          max_gas: int) -> Diagnosis:
    """Simulate the gateway's call of the message's recipient with ``gas``, then (if that
    fails and ``max_gas`` is more) with ``max_gas``: the verdict says which retry, if any, is
    worth paying for. Costs two to three eth_calls, nothing on chain."""
    recipient = "0x" + to_canonical_address(str(body["recipient"])).hex()
    data = receive_calldata(message_id, body)
    first = _call(client, _tx(gateway, recipient, data, gas))
    if first.kind == "error":
        return Diagnosis(Verdict.UNKNOWN, gas, reason=first.message)
    if first.accepted:
        return Diagnosis(Verdict.ACCEPTS, gas,
                         needed=_needed(client, _tx(gateway, recipient, data, gas), gas))
    last = first
    if max_gas > gas and first.kind != "ok":  # an answer (a wrong one) is not about gas
        big = _call(client, _tx(gateway, recipient, data, max_gas))
        if big.kind == "error":
            return Diagnosis(Verdict.UNKNOWN, max_gas, reason=big.message)
        if big.accepted:
            needed = _needed(client, _tx(gateway, recipient, data, max_gas), max_gas)
            return Diagnosis(Verdict.NEEDS_GAS, max_gas, needed=max(needed, gas + 1))
        last = big if first.kind == "oog" else first  # its own words, when it had any
    if last.kind == "oog":
        return Diagnosis(Verdict.OUT_OF_GAS, max(gas, max_gas))
    return Diagnosis(Verdict.REFUSES, gas, reason=_refusal(last))
