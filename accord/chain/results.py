"""Step results: the coordinator stores one commitment per step, the result itself is in events.

A step's result (its content hash and the URI it can be fetched from) costs the coordinator
one storage word: ``resultCommitment(runId, step)`` = keccak256(abi.encode(resultHash,
resultURI)). The hash and URI are in the step's ``StepSubmitted`` event (a remote step's in
``RemoteResultReceived``); the current result is the newest of those events whose values give
the commitment. This module computes commitments and finds that event, for web3.py
(``find_result``) and for the agents' async chain session (``find_result_async``): both scan
the coordinator's logs for the run and step, newest block range first, so a recent result
costs one ``eth_getLogs``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from eth_abi import decode, encode
from eth_utils import keccak

from accord.chain.types import StepResult
from accord.errors import ChainError

if TYPE_CHECKING:
    from web3 import Web3

    from accord.chain.rpc import AsyncChain

#: Blocks per ``eth_getLogs`` query: within what public RPC endpoints accept.
LOG_CHUNK = 10_000
NO_RESULT = b"\x00" * 32

_SUBMITTED = keccak(text="StepSubmitted(uint256,uint8,uint256,bytes32,string,uint64)")
_REMOTE = keccak(text="RemoteResultReceived(uint256,uint8,uint8,bytes32,string,bool)")
# The URI is decoded as the bytes it is (ABI `string` and `bytes` encode alike): Solidity does
# not check UTF-8, so a URI that is not UTF-8 must neither break a reader nor change its
# commitment. Such a URI comes back as a str with surrogate escapes (``_uri``).
_DATA = {_SUBMITTED: ["bytes32", "bytes", "uint64"],
         _REMOTE: ["uint8", "bytes32", "bytes", "bool"]}


def commitment(result_hash: bytes, result_uri: str) -> bytes:
    """The coordinator's ``ResultCommitments.commit``: keccak256(abi.encode(hash, uri))."""
    return keccak(encode(["bytes32", "bytes"], [bytes(result_hash), _raw(result_uri)]))


def _raw(uri: str) -> bytes:
    return uri.encode("utf-8", "surrogateescape")


def _uri(raw: bytes) -> str:
    return bytes(raw).decode("utf-8", "surrogateescape")


def _word(n: int) -> str:
    return "0x" + n.to_bytes(32, "big").hex()


def _ranges(latest: int, from_block: int, chunk: int) -> Iterator[tuple[int, int]]:
    """Block ranges from the newest back to ``from_block``, ``chunk`` blocks each."""
    to = latest
    while to >= from_block:
        yield max(from_block, to - chunk + 1), to
        to -= chunk


def _query(coordinator: str, run_id: int, steps: list[int], lo: int, hi: int) -> dict[str, Any]:
    topics: list[Any] = [["0x" + _SUBMITTED.hex(), "0x" + _REMOTE.hex()], _word(run_id)]
    if len(steps) == 1:
        topics.append(_word(steps[0]))
    return {"address": coordinator, "fromBlock": hex(lo), "toBlock": hex(hi), "topics": topics}


def _hexbytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return bytes.fromhex(str(value).removeprefix("0x"))


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _match(logs: list[Any], want: dict[int, bytes], found: dict[int, StepResult]) -> None:
    """Moves each step of ``want`` whose newest log in ``logs`` (one block range) gives its
    commitment into ``found``."""
    def order(log: Any) -> tuple[int, int]:
        return _int(log["blockNumber"]), _int(log["logIndex"])

    for log in sorted(logs, key=order, reverse=True):
        topic = _hexbytes(log["topics"][0])
        types = _DATA.get(topic)
        step = int.from_bytes(_hexbytes(log["topics"][2]), "big") if len(log["topics"]) > 2 else -1
        if types is None or step not in want:
            continue
        values = decode(types, _hexbytes(log["data"]))
        pair = (values[0], _uri(values[1])) if topic == _SUBMITTED else (values[1], _uri(values[2]))
        if commitment(*pair) == want[step]:
            found[step] = StepResult(resultHash=bytes(pair[0]), resultURI=pair[1])
            del want[step]


def _missing(run_id: int, steps: dict[int, bytes], from_block: int) -> ChainError:
    return ChainError(f"run {run_id} step(s) {sorted(steps)} have a result commitment but no "
                      f"StepSubmitted "
                      f"or RemoteResultReceived event from block {from_block} matches it: the "
                      "node may have pruned its logs; query an archive node")


def _commitment_call(coordinator: str, run_id: int, step: int) -> dict[str, str]:
    data = keccak(text="resultCommitment(uint256,uint8)")[:4] + encode(
        ["uint256", "uint8"], [run_id, step])
    return {"to": coordinator, "data": "0x" + data.hex()}


def find_results(w3: Web3, coordinator: str, run_id: int, steps: list[int], *,
                 from_block: int = 0, chunk: int = LOG_CHUNK) -> dict[int, StepResult]:
    """The current results of ``steps`` that have one, read through web3.py."""
    want = {i: bytes(w3.eth.call(_commitment_call(coordinator, run_id, i)))  # type: ignore[arg-type]
            for i in steps}
    want = {i: c for i, c in want.items() if c != NO_RESULT}
    found: dict[int, StepResult] = {}
    for lo, hi in _ranges(int(w3.eth.block_number), from_block, chunk):
        if not want:
            break
        logs = w3.eth.get_logs(_query(coordinator, run_id, list(want), lo, hi))  # type: ignore[arg-type]
        _match(list(logs), want, found)
    if want:
        raise _missing(run_id, want, from_block)
    return found


def find_result(w3: Web3, coordinator: str, run_id: int, step: int, *, from_block: int = 0,
                chunk: int = LOG_CHUNK) -> StepResult | None:
    """The current result of ``step`` (None before any), read through web3.py."""
    return find_results(w3, coordinator, run_id, [step], from_block=from_block,
                        chunk=chunk).get(step)


async def find_result_async(chain: AsyncChain, coordinator: str, run_id: int, step: int, *,
                            from_block: int = 0, chunk: int = LOG_CHUNK) -> StepResult | None:
    """``find_result`` over the agents' async chain session."""
    got = _hexbytes(await chain.request("eth_call", [_commitment_call(coordinator, run_id, step),
                                                     "latest"]))
    if got == NO_RESULT:
        return None
    want = {step: got}
    found: dict[int, StepResult] = {}
    latest = int(str(await chain.request("eth_blockNumber", [])), 16)
    for lo, hi in _ranges(latest, from_block, chunk):
        logs = await chain.request("eth_getLogs", [_query(coordinator, run_id, [step], lo, hi)])
        _match(list(logs), want, found)
        if not want:
            return found[step]
    raise _missing(run_id, want, from_block)


_VALIDATED = keccak(text="StepValidated(uint256,uint8,uint256,uint8,uint8,uint8,uint8,address)")


def verdict_tallies(w3: Web3, coordinator: str, run_id: int, attempts: dict[int, int], *,
                    from_block: int = 0, chunk: int = LOG_CHUNK) -> dict[int, tuple[int, int]]:
    """(approvals, rejections) after the last vote counted on attempt ``attempts[step]`` of
    each step that has one. For a decided step's current attempt these are its verdict's
    tallies, which the coordinator does not keep (its ``tallies`` view shows recorded votes
    while a step is Submitted); a step decided without a vote on that attempt (a validation
    timeout) is absent."""
    want = dict(attempts)
    found: dict[int, tuple[int, int]] = {}
    for lo, hi in _ranges(int(w3.eth.block_number), from_block, chunk):
        if not want:
            break
        query: Any = {"address": coordinator, "fromBlock": hex(lo), "toBlock": hex(hi),
                      "topics": ["0x" + _VALIDATED.hex(), _word(run_id)]}
        logs = w3.eth.get_logs(query)
        for log in sorted(logs, key=lambda g: (_int(g["blockNumber"]), _int(g["logIndex"])),
                          reverse=True):
            step = int.from_bytes(_hexbytes(log["topics"][2]), "big")
            if step not in want:
                continue
            _, approvals, rejections, attempt, _ = decode(
                ["uint8", "uint8", "uint8", "uint8", "address"], _hexbytes(log["data"]))
            if attempt == want[step]:
                found[step] = (int(approvals), int(rejections))
                del want[step]
            elif attempt < want[step]:
                del want[step]  # older attempts only from here back: none on this one
    return found
