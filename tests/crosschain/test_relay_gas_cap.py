"""A failing recipient does not bleed the relayer: it tells a deliberate revert from running
out of gas, retries only what a simulation says will succeed, stops at its per-message gas
cap, and records why it gave up (shown by `accord message status`)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from web3.logs import DISCARD

from accord.chain.types import MessageStatus, MessageStatusInfo
from accord.dev.devnet import Devnet
from accord.crosschain.messages import encode_interop_address, gas_limit_attribute
from accord.crosschain.relayer import Relayer
from accord.crosschain.attestation_store import SqliteStore

BURN_ALL = 2**256 - 1
WINDOW = 10


def _deploy(tc: Any, name: str, *args: Any) -> str:
    contract, _ = tc.b.client.deploy(name, *args, sender=tc.admin)
    return str(contract.address)


def _send(tc: Any, recipient: str, gas_limit: int | None = None) -> str:
    """One message chaina -> ``recipient`` on chainb, sent by the admin; its id."""
    gw = tc.a.client.contract("AccordGateway", tc.a.gateway)
    attributes = [] if gas_limit is None else [gas_limit_attribute(gas_limit)]
    receipt = tc.a.client.transact(gw.functions.sendMessage(
        encode_interop_address(tc.b.client.chain_id, recipient), b"job", attributes), tc.admin)
    sent = gw.events.MessageSent().process_receipt(receipt, errors=DISCARD)
    return "0x" + bytes(sent[0]["args"]["sendId"]).hex()


def _relayer(tc: Any, store: SqliteStore, **config: Any) -> Relayer:
    for v in tc.validator_set(tc.a, store, window=WINDOW):
        v.poll_once()
    relayer = tc.relayer(tc.a, tc.b, store, window=WINDOW)
    relayer.config.backoff_s = 0.0
    relayer.config.retry_backoff_s = 0.0
    for key, value in config.items():
        setattr(relayer.config, key, value)
    return relayer


def _settle(relayer: Relayer, store: SqliteStore, mid: str, steps: int = 12) -> str:
    """Step the relayer until ``mid`` is delivered or given up (backoffs are 0); its status."""
    for _ in range(steps):
        relayer.step()
        rec = store.message(mid)
        assert rec is not None
        if rec.status not in ("pending", "failed"):
            return rec.status
    raise AssertionError(f"{mid} still unsettled after {steps} steps: {store.message(mid)}")


def _on_chain(tc: Any, mid: str) -> MessageStatusInfo:
    gw = tc.b.client.contract("AccordGateway", tc.b.gateway)
    return MessageStatusInfo.from_abi(gw.functions.messageStatus(
        tc.a.client.chain_id, tc.a.gateway, 0, bytes.fromhex(mid[2:])).call())


def _gateway_events(tc: Any, name: str, mid: str) -> int:
    gw = tc.b.client.contract("AccordGateway", tc.b.gateway)
    return len(getattr(gw.events, name)().get_logs(from_block=0, argument_filters={"id": mid}))


def _status_lines(tc: Any, devnet: Devnet, manifests: Path, mid: str,
                  store_path: Path, *extra: str) -> list[str]:
    """`accord message status ID --store DB` against this test's gateways, line by line."""
    from accord.cli import cli
    from accord.dev.devnet import manifest_path

    manifest_path().parent.mkdir(parents=True, exist_ok=True)
    devnet.write_manifest()
    manifests.mkdir(parents=True, exist_ok=True)
    for side, name in ((tc.a, "chaina"), (tc.b, "chainb")):
        (manifests / f"ethereum_{name}.json").write_text(json.dumps(
            {"chain_id": side.client.chain_id, "contracts": {"gateway": {"address": side.gateway}}}))
    result = CliRunner().invoke(cli, ["message", "status", mid, "--network", "chaina",
                                      "--network", "chainb", "--store", str(store_path),
                                      *extra])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_a_recipient_burning_all_its_gas_is_given_up_as_out_of_gas_within_the_cap(
        tc: Any, store_path: Path, devnet: Devnet, manifests: Path) -> None:
    store = SqliteStore(store_path)
    mid = _send(tc, _deploy(tc, "GasBurnerRecipient", BURN_ALL))
    relayer = _relayer(tc, store)
    assert _settle(relayer, store, mid) == "gave_up"
    rec = store.message(mid)
    assert rec is not None and rec.note is not None
    assert rec.note.startswith("gave up: out of gas even with 2,940,000 gas, the most a try "
                               "may have within the 3,000,000 gas cap")
    # the simulation showed more gas would not help: one delivery, nothing retried on chain
    assert 200_000 < rec.gas_spent <= relayer.config.max_gas_per_message
    assert _gateway_events(tc, "MessageFailed", mid) == 1
    assert _on_chain(tc, mid).status is MessageStatus.FAILED
    assert relayer.step() == 0 and store.message(mid).status == "gave_up"  # type: ignore[union-attr]
    lines = _status_lines(tc, devnet, manifests, mid, store_path)
    assert f"  relayer   {rec.note}" in lines
    assert any(line.startswith("  status    failed after 1 attempts") for line in lines)
    # the same as data for scripts: whole hashes, numbers, ISO 8601 times in order
    data = json.loads("\n".join(_status_lines(tc, devnet, manifests, mid, store_path,
                                              "--json")))
    assert data["id"] == mid and data["status"] == "failed" and data["attempts"] == 1
    assert data["relayer"] == {"status": "gave_up", "note": rec.note,
                               "gas_spent": rec.gas_spent}
    assert len(data["reason_hash"]) == 66 and data["sent"]["at"].endswith("+00:00")
    times = [e["at"] for e in data["events"]]
    assert times == sorted(times) and data["events"][0]["what"] == "failed"


def test_a_recipient_that_reverts_on_purpose_is_not_retried_with_more_gas_and_is_given_up(
        tc: Any, store_path: Path) -> None:
    store = SqliteStore(store_path)
    recipient = _deploy(tc, "MockRecipient")
    mock = tc.b.client.contract("MockRecipient", recipient)
    tc.b.client.transact(mock.functions.setMode(1), tc.admin)  # Revert
    mid = _send(tc, recipient)
    relayer = _relayer(tc, store, max_tries=3)
    assert _settle(relayer, store, mid) == "gave_up"
    rec = store.message(mid)
    assert rec is not None and rec.note is not None
    refused = "0x" + tc.b.client.w3.keccak(text="MockRecipientRefused(bytes32)")[:4].hex()
    assert rec.note == (f"gave up: recipient reverts ({refused}: MockRecipientRefused({mid})) "
                        f"after 3 tries ({rec.gas_spent:,} gas spent)")
    assert rec.tries == 3
    # checked again by simulation at its own gas, never sent again: one attempt on chain
    assert _gateway_events(tc, "MessageFailed", mid) == 1
    assert _on_chain(tc, mid).attempts == 1


def test_a_refusing_recipient_that_becomes_ready_is_delivered_at_its_own_gas(
        tc: Any, store_path: Path) -> None:
    store = SqliteStore(store_path)
    recipient = _deploy(tc, "MockRecipient")
    mock = tc.b.client.contract("MockRecipient", recipient)
    tc.b.client.transact(mock.functions.setMode(1), tc.admin)
    mid = _send(tc, recipient)
    relayer = _relayer(tc, store, max_tries=3)
    relayer.step()  # delivered: fails; simulated at once: refuses, to be checked again
    rec = store.message(mid)
    assert rec is not None and rec.status == "failed"
    assert rec.note is not None and rec.note.startswith("recipient reverts (")
    tc.b.client.transact(mock.functions.setMode(0), tc.admin)  # the recipient is ready now
    assert _settle(relayer, store, mid) == "delivered"
    rec = store.message(mid)
    assert rec is not None and rec.note == (f"delivered on try 2 with 200,000 gas (spent "
                                            f"{rec.gas_spent:,} gas in all)")
    assert int(mock.functions.received().call()) == 1


def test_a_recipient_short_of_gas_is_retried_with_about_what_it_needs_and_delivered(
        tc: Any, store_path: Path) -> None:
    store = SqliteStore(store_path)
    recipient = _deploy(tc, "GasBurnerRecipient", 300_000)  # needs 300k; the message has 200k
    mid = _send(tc, recipient)
    relayer = _relayer(tc, store)
    assert _settle(relayer, store, mid) == "delivered"
    rec = store.message(mid)
    assert rec is not None and rec.note is not None
    retried_with = int(rec.note.split(" with ")[1].split(" gas")[0].replace(",", ""))
    assert 300_000 < retried_with < 400_000  # the simulation's need plus a tenth, not doubling
    assert rec.gas_spent <= relayer.config.max_gas_per_message
    assert _gateway_events(tc, "MessageFailed", mid) == 1
    assert _gateway_events(tc, "MessageDelivered", mid) == 1
    burner = tc.b.client.contract("GasBurnerRecipient", recipient)
    assert int(burner.functions.received().call()) == 1


def test_a_message_sent_with_too_little_gas_for_its_recipient_within_the_cap_is_given_up(
        tc: Any, store_path: Path) -> None:
    store = SqliteStore(store_path)
    recipient = _deploy(tc, "GasBurnerRecipient", 1_900_000)
    mid = _send(tc, recipient, gas_limit=100_000)
    relayer = _relayer(tc, store, max_gas_per_message=2_000_000)
    assert _settle(relayer, store, mid) == "gave_up"
    rec = store.message(mid)
    assert rec is not None and rec.note is not None
    assert rec.note.startswith("gave up: needs about 1,9")
    assert "over the 2,000,000 gas cap" in rec.note
    assert rec.gas_spent <= 2_000_000
    assert _gateway_events(tc, "MessageFailed", mid) == 1  # no retry it could not afford


def test_a_given_up_message_handed_back_by_hand_is_retried_with_a_fresh_budget(
        tc: Any, store_path: Path, manifests: Path) -> None:
    from accord.cli import cli

    store = SqliteStore(store_path)
    recipient = _deploy(tc, "GasBurnerRecipient", BURN_ALL)
    mid = _send(tc, recipient)
    relayer = _relayer(tc, store)
    assert _settle(relayer, store, mid) == "gave_up"
    burner = tc.b.client.contract("GasBurnerRecipient", recipient)
    tc.b.client.transact(burner.functions.setBurn(50_000), tc.admin)  # its owner fixed it
    result = CliRunner().invoke(cli, ["message", "retry", mid, "--store", str(store_path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"message {mid} handed back to the relayer (before: "
                                    "gave up: out of gas")
    assert _settle(relayer, store, mid) == "delivered"
    again = CliRunner().invoke(cli, ["message", "retry", mid, "--store", str(store_path)])
    assert again.exit_code == 1
    assert again.output.count("\n") == 1 and "is delivered in" in again.output


def test_an_old_store_gains_the_relayers_columns_and_keeps_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE messages (id TEXT PRIMARY KEY, route TEXT NOT NULL,
          origin_chain INTEGER NOT NULL, dest_chain INTEGER NOT NULL, nonce INTEGER NOT NULL,
          block INTEGER NOT NULL, block_hash TEXT NOT NULL, tx TEXT NOT NULL, body TEXT NOT NULL,
          status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
          seen_at REAL NOT NULL, delivered_at REAL, delivered_tx TEXT, reason TEXT);
        INSERT INTO messages (id, route, origin_chain, dest_chain, nonce, block, block_hash, tx,
          body, status, attempts, seen_at, reason)
          VALUES ('0xaa', '1->2', 1, 2, 0, 5, '0xbb', '0xcc', '{}', 'failed', 1, 0, '0xdd');
    """)
    db.close()
    store = SqliteStore(path)
    SqliteStore(path)  # a second opener finds the columns there
    rec = store.message("0xaa")
    assert rec is not None and rec.status == "failed" and rec.reason == "0xdd"
    assert (rec.gas_spent, rec.tries, rec.last_gas, rec.note) == (0, 0, None, None)
    store.failed("0xaa", tx="0xee", reason="0xff", gas=1_234, recipient_gas=200_000)
    rec = store.message("0xaa")
    assert rec is not None and (rec.gas_spent, rec.tries, rec.last_gas) == (1_234, 1, 200_000)


def test_relay_help_explains_the_gas_cap() -> None:
    from accord.cli import cli

    result = CliRunner().invoke(cli, ["relay", "--help"])
    assert result.exit_code == 0
    assert "--max-gas-per-message" in result.output
    assert "3000000" in result.output and "gives up" in result.output


def test_an_out_of_gas_answer_is_final_but_an_internal_error_is_asked_again() -> None:
    from accord.chain.client import transient_error

    assert not transient_error({"error": {"code": -32603, "message": "EVM error OutOfGas"}})
    assert not transient_error({"error": {"code": -32603, "message": "out of gas"}})
    assert transient_error({"error": {"code": -32603, "message": "fault proxy: injected failure"}})


def test_a_window_too_heavy_for_one_transaction_is_delivered_in_parts(
        tc: Any, store_path: Path) -> None:
    store = SqliteStore(store_path)
    recipient = _deploy(tc, "MockRecipient")
    heavy = 6_000_000  # five of them need more than one transaction's 25M gas bound
    mids = [_send(tc, recipient, heavy) for _ in range(5)]
    mids += [_send(tc, recipient) for _ in range(WINDOW - 5)]  # close the window
    relayer = _relayer(tc, store)
    batches = relayer.plan()
    assert len(batches) >= 2 and all(b.window_ids for b in batches)
    assert all(relayer._gas(b) <= 25_000_000 for b in batches)
    assert sorted(m.id for b in batches for m in b.messages) == sorted(mids)
    assert relayer.send(batches) == WINDOW
    assert all(_on_chain(tc, mid).status is MessageStatus.DELIVERED for mid in mids)
