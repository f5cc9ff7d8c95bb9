"""Gas of the messaging protocols a user would pick instead of Accord, on the same anvil
(1.7.1, prague) and in the same run, from receipts (gasUsed).

Peers (installed by ``bench/peers/setup.sh`` into ``bench/peers/node_modules``, never into the
project's own node_modules), deployed from their PUBLISHED PRODUCTION BYTECODE, nothing
recompiled:
- Hyperlane ``@hyperlane-xyz/core`` 12.1.0: the typechain factories' bytecode in
  ``dist/typechain`` (solc 0.8.33, optimizer 3599 runs, evm cancun, no via-IR, as its
  ``dist/buildArtifact.json`` records).
- LayerZero v2 ``@layerzerolabs/lz-evm-{protocol,messagelib}-v2`` 3.0.168: the hardhat
  artifacts in ``artifacts/`` (solc 0.8.22 per the bytecode's metadata; the package does not
  record optimizer settings, the public repository's messagelib foundry.toml says 20,000
  runs). ``lz-evm-oapp-v2`` is installed but unused: senders are EOAs, the receiver a mock.

Result keys: ``peers.hyperlane.{send,receive}_{32,256}``; ``peers.layerzero.`` ``send_N``,
``verify_dvn1_N``, ``verify_dvn2_N``, ``verify_N`` (their sum), ``commit_N``, ``execute_N``
(lzReceive) and ``receive_N`` (verify + commit + execute), N in 32, 256 (message bytes).

Configurations (origin = chain A, destination = a second anvil with its own chain id):
- Hyperlane: Mailbox behind Hyperlane's TransparentUpgradeableProxy on each side (as deployed
  on mainnets); required hook MerkleTreeHook, default hook a PausableHook (unpaused: a no-op
  hook, no IGP payment); destination default ISM a 2-of-3 StaticMessageIdMultisigIsm made by
  its factory (a clone with immutable validators). Receive = one ``Mailbox.process`` by a
  relayer with MessageIdMultisigIsm metadata (origin merkle hook, root, index, 2 signatures).
- LayerZero: EndpointV2 + SendUln302 on A, EndpointV2 + ReceiveUln302 on B, as the default
  libraries; default ULN config: 1 confirmation, two required DVNs, no optional DVNs;
  default executor: Executor (initialized directly, no proxy) with ExecutorFeeLib and a
  PriceFeed (price ratio 1, 1 gwei, 16 gas/byte); each DVN a production ``DVN`` contract
  (MultiSig quorum 1 of 1 signer) with DVNFeeLib; no treasury (fee 0), no LZ token.
  Receive = each DVN's ``DVN.execute`` (signed ``ReceiveUln302.verify``) + one
  ``ReceiveUln302.commitVerification`` + one ``EndpointV2.lzReceive`` (by an EOA executor).
Both peers deliver to a no-op recipient (contracts/mocks/Peer*), and every send comes from
an EOA, so the figures are the protocol's own cost. Every figure is the steady state of a
path already in use: LayerZero after one delivered warm-up message, Hyperlane after 8
dispatched (one delivered) so that its merkle tree insert writes an already used branch slot
as in a mature tree. Forged attestations are
checked on every run: Hyperlane ``process`` reverts "!threshold"; a DVN ``execute`` with a
forged signature emits VerifySignaturesFailed and verifies nothing, so ``commitVerification``
reverts ``LZ_ULN_Verifying()``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3.contract import Contract
from web3.logs import DISCARD

from accord.chain.client import Client
from accord.errors import ChainError, ContractRevert
from bench.common import BenchContext, gas

PEERS_DIR = Path(__file__).resolve().parent / "peers"
NODE_MODULES = PEERS_DIR / "node_modules"
HYPERLANE = NODE_MODULES / "@hyperlane-xyz" / "core"
LAYERZERO = NODE_MODULES / "@layerzerolabs"
DEST_CHAIN = "peersb"
DEST_CHAIN_ID = 31337102
SIZES = (32, 256)
VALIDATOR_INDEXES = (5, 6, 7)  # Hyperlane validators; DVN signers are 8 and 9
DVN_SIGNER_INDEXES = (8, 9)
FORGER_INDEX = 11
LZ_RECEIVE_GAS = 100_000
# Messages dispatched before measuring: the MerkleTreeHook's insert writes branch[ctz(count)],
# a fresh slot (+17,100 gas) the first time a count reaches a new power of two; after 8
# messages the measured inserts (counts 9 and 10) write used slots, as in a mature tree.
HYPERLANE_WARMUP = 8
LZ_ULN_VERIFYING = keccak(text="LZ_ULN_Verifying()")[:4]


def available() -> bool:
    """True when bench/peers/setup.sh has installed the peers."""
    return (HYPERLANE / "package.json").is_file() and (
        LAYERZERO / "lz-evm-messagelib-v2" / "package.json").is_file()


# -- artifacts ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Compiled:
    abi: list[dict[str, Any]]
    bytecode: str


def _js_literal_to_json(text: str) -> Any:
    quoted = re.sub(r"^(\s*)([A-Za-z_]\w*):", r'\1"\2":', text, flags=re.M)
    return json.loads(re.sub(r",(\s*[\]}])", r"\1", quoted))


@cache
def hyperlane_artifact(factory: str) -> Compiled:
    """ABI and production bytecode from a typechain factory, e.g. ``contracts/Mailbox``."""
    path = HYPERLANE / "dist" / "typechain" / "factories" / f"{factory}__factory.js"
    text = path.read_text()
    abi_src = re.search(r"const _abi = (\[.*?\n\]);", text, re.S)
    code = re.search(r'const _bytecode = "(0x[0-9a-fA-F]+)"', text)
    if abi_src is None or code is None:
        raise ChainError(f"no ABI/bytecode in {path}; reinstall with bench/peers/setup.sh")
    return Compiled(_js_literal_to_json(abi_src.group(1)), code.group(1))


@cache
def lz_artifact(package: str, source: str, name: str) -> Compiled:
    """A LayerZero hardhat artifact, e.g. ``("lz-evm-protocol-v2", "EndpointV2.sol", ...)``."""
    path = LAYERZERO / package / "artifacts" / "contracts" / source / f"{name}.json"
    data = json.loads(path.read_text())
    return Compiled(data["abi"], data["bytecode"])


def deploy(client: Client, compiled: Compiled, *args: Any, sender: LocalAccount) -> Contract:
    factory = client.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    tx = factory.constructor(*args).build_transaction(
        {"from": sender.address, "chainId": client.chain_id})
    receipt = client.send(tx, sender)
    return client.w3.eth.contract(address=receipt["contractAddress"], abi=compiled.abi)


def at(client: Client, compiled: Compiled, address: str) -> Contract:
    return client.w3.eth.contract(address=to_checksum_address(address), abi=compiled.abi)


def b32(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def eth_sign(account: LocalAccount, digest: bytes) -> bytes:
    """An EIP-191 personal-message signature over a 32-byte hash (r || s || v, v 27/28)."""
    return bytes(account.sign_message(encode_defunct(primitive=digest)).signature)


def reverts(client: Client, fn: Any, sender: LocalAccount) -> bytes:
    """Send ``fn`` expecting a revert; return the revert data (raises if it succeeded)."""
    try:
        client.transact(fn, sender)
    except ContractRevert as exc:
        return bytes.fromhex(exc.data[2:])
    raise AssertionError("expected a revert, the transaction succeeded")


# -- Hyperlane ---------------------------------------------------------------------------
@dataclass
class HyperlaneRig:
    src: Client
    dst: Client
    admin: LocalAccount
    validators: list[LocalAccount]
    origin_mailbox: Contract
    dest_mailbox: Contract
    merkle_hook: Contract
    ism: Contract
    recipient: str


def _hyperlane_mailbox(client: Client, admin: LocalAccount, domain: int, ism: str,
                       default_hook: str, required_hook: str | None) -> Contract:
    impl = deploy(client, hyperlane_artifact("contracts/Mailbox"), domain, sender=admin)
    proxy_admin = deploy(client, hyperlane_artifact(
        "@openzeppelin/contracts/proxy/transparent/ProxyAdmin"), sender=admin)
    proxy = deploy(client, hyperlane_artifact(
        "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol/"
        "TransparentUpgradeableProxy"), impl.address, proxy_admin.address, b"", sender=admin)
    mailbox = at(client, hyperlane_artifact("contracts/Mailbox"), proxy.address)
    if required_hook is None:  # the destination never dispatches: any contract will do
        required_hook = default_hook
    client.transact(mailbox.functions.initialize(admin.address, ism, default_hook,
                                                 required_hook), admin)
    return mailbox


def deploy_hyperlane(src: Client, dst: Client, admin: LocalAccount,
                     validators: list[LocalAccount], threshold: int = 2) -> HyperlaneRig:
    """Origin Mailbox (MerkleTreeHook required, PausableHook default) on ``src``; destination
    Mailbox with a ``threshold``-of-len(validators) MessageIdMultisigIsm on ``dst``."""
    pausable = hyperlane_artifact("contracts/hooks/PausableHook")
    noop_ism = deploy(src, hyperlane_artifact("contracts/test/TestIsm"), sender=admin)
    # The origin mailbox needs its own address for the MerkleTreeHook: deploy with a
    # placeholder required hook, then point it at the real one (owner call, as in deploys).
    src_pause = deploy(src, pausable, sender=admin)
    origin = _hyperlane_mailbox(src, admin, src.chain_id, noop_ism.address, src_pause.address,
                                src_pause.address)
    merkle = deploy(src, hyperlane_artifact("contracts/hooks/MerkleTreeHook"), origin.address,
                    sender=admin)
    src.transact(origin.functions.setRequiredHook(merkle.address), admin)

    factory = deploy(dst, hyperlane_artifact(
        "contracts/isms/multisig/StaticMultisigIsm.sol/StaticMessageIdMultisigIsmFactory"),
        sender=admin)
    signers = sorted((v.address for v in validators), key=lambda a: a.lower())
    ism_addr = factory.functions.deploy(signers, threshold).call({"from": admin.address})
    dst.transact(factory.functions.deploy(signers, threshold), admin)
    ism = at(dst, hyperlane_artifact(
        "contracts/isms/multisig/StaticMultisigIsm.sol/StaticMessageIdMultisigIsm"), ism_addr)
    dst_pause = deploy(dst, pausable, sender=admin)
    dest = _hyperlane_mailbox(dst, admin, dst.chain_id, ism.address, dst_pause.address, None)
    recipient, _ = dst.deploy("PeerHyperlaneRecipientMock", sender=admin)
    by_addr = {v.address: v for v in validators}
    return HyperlaneRig(src, dst, admin, [by_addr[a] for a in signers], origin, dest, merkle,
                        ism, recipient.address)


def hyperlane_send(rig: HyperlaneRig, body: bytes, sender: LocalAccount) -> tuple[int, bytes]:
    """Dispatch ``body`` to the recipient; (gasUsed, the dispatched message bytes)."""
    fn = rig.origin_mailbox.get_function_by_signature("dispatch(uint32,bytes32,bytes)")
    receipt = rig.src.transact(fn(rig.dst.chain_id, b32(rig.recipient), body), sender)
    events = rig.origin_mailbox.events.Dispatch().process_receipt(receipt, errors=DISCARD)
    return gas(receipt), bytes(events[0]["args"]["message"])


def hyperlane_metadata(rig: HyperlaneRig, message: bytes,
                       signers: list[LocalAccount]) -> bytes:
    """MessageIdMultisigIsm metadata: the checkpoint the validators sign (the origin merkle
    hook's latest root and index) and their signatures, in validator order."""
    root, index = rig.merkle_hook.functions.latestCheckpoint().call()
    hook = b32(rig.merkle_hook.address)
    origin = int.from_bytes(message[5:9], "big")
    domain_hash = keccak(origin.to_bytes(4, "big") + hook + b"HYPERLANE")
    digest = keccak(domain_hash + bytes(root) + index.to_bytes(4, "big") + keccak(message))
    sigs = b"".join(eth_sign(s, digest) for s in signers)
    return hook + bytes(root) + index.to_bytes(4, "big") + sigs


def hyperlane_process(rig: HyperlaneRig, metadata: bytes, message: bytes,
                      relayer: LocalAccount) -> int:
    return gas(rig.dst.transact(rig.dest_mailbox.functions.process(metadata, message),
                                relayer))


def hyperlane_forged_revert(rig: HyperlaneRig, message: bytes, relayer: LocalAccount,
                            forger: LocalAccount) -> bytes:
    """process() with one real and one forged signature: the revert data."""
    metadata = hyperlane_metadata(rig, message, [rig.validators[0], forger])
    return reverts(rig.dst, rig.dest_mailbox.functions.process(metadata, message), relayer)


# -- LayerZero ---------------------------------------------------------------------------
PROTOCOL = "lz-evm-protocol-v2"
MESSAGELIB = "lz-evm-messagelib-v2"


def _lz(name: str, source: str | None = None, package: str = MESSAGELIB) -> Compiled:
    return lz_artifact(package, source or f"{name}.sol", name)


@dataclass
class LayerZeroRig:
    src: Client
    dst: Client
    admin: LocalAccount
    dvn_signers: list[LocalAccount]
    src_endpoint: Contract
    dst_endpoint: Contract
    receive_uln: Contract
    dst_dvns: list[Contract]
    receiver: str
    options: bytes
    vids: list[int] = field(default_factory=list)


def lz_options(gas_limit: int) -> bytes:
    """Type-3 options with one executor lzReceive option (OptionsBuilder's encoding)."""
    return (b"\x00\x03" + b"\x01" + (17).to_bytes(2, "big") + b"\x01"
            + gas_limit.to_bytes(16, "big"))


def _dvn(client: Client, admin: LocalAccount, vid: int, lib: str, price_feed: str,
         signer: LocalAccount, remote_eid: int) -> Contract:
    dvn = deploy(client, _lz("DVN", "uln/dvn/DVN.sol"), client.chain_id, vid, [lib],
                 price_feed, [signer.address], 1, [admin.address], sender=admin)
    fee_lib = deploy(client, _lz("DVNFeeLib", "uln/dvn/DVNFeeLib.sol"), client.chain_id,
                     10**18, sender=admin)
    client.transact(dvn.functions.setWorkerFeeLib(fee_lib.address), admin)
    client.transact(dvn.functions.setDstConfig([(remote_eid, 200_000, 0, 0)]), admin)
    return dvn


def _uln_config(dvns: list[str]) -> tuple[Any, ...]:
    return (1, len(dvns), 0, 0, sorted(dvns, key=lambda a: a.lower()), [])


def deploy_layerzero(src: Client, dst: Client, admin: LocalAccount,
                     dvn_signers: list[LocalAccount]) -> LayerZeroRig:
    """EndpointV2 + SendUln302 (two required DVNs, an Executor) on ``src``; EndpointV2 +
    ReceiveUln302 with DVNs of the same operators on ``dst``."""
    src_eid, dst_eid = src.chain_id, dst.chain_id
    endpoint_art = _lz("EndpointV2", package=PROTOCOL)
    src_ep = deploy(src, endpoint_art, src_eid, admin.address, sender=admin)
    dst_ep = deploy(dst, endpoint_art, dst_eid, admin.address, sender=admin)

    # -- origin: send library, price feed, executor, DVNs
    send_uln = deploy(src, _lz("SendUln302", "uln/uln302/SendUln302.sol"), src_ep.address,
                      0, 0, sender=admin)
    feed = deploy(src, _lz("PriceFeed"), sender=admin)
    src.transact(feed.functions.initialize(admin.address), admin)
    src.transact(feed.functions.setPrice([(dst_eid, (10**20, 10**9, 16))]), admin)
    executor = deploy(src, _lz("Executor"), sender=admin)
    src.transact(executor.functions.initialize(src_ep.address, "0x" + "00" * 20,
                                               [send_uln.address], feed.address,
                                               admin.address, [admin.address]), admin)
    exec_fee_lib = deploy(src, _lz("ExecutorFeeLib"), src_eid, 10**18, sender=admin)
    src.transact(executor.functions.setWorkerFeeLib(exec_fee_lib.address), admin)
    src.transact(executor.functions.setDstConfig([(dst_eid, 100_000, 0, 0, 0, 10**18)]),
                 admin)
    vids = [1, 2]
    src_dvns = [_dvn(src, admin, vid, send_uln.address, feed.address, s, dst_eid)
                for vid, s in zip(vids, dvn_signers, strict=True)]
    src.transact(send_uln.functions.setDefaultUlnConfigs(
        [(dst_eid, _uln_config([d.address for d in src_dvns]))]), admin)
    src.transact(send_uln.functions.setDefaultExecutorConfigs(
        [(dst_eid, (10_000, executor.address))]), admin)
    src.transact(src_ep.functions.registerLibrary(send_uln.address), admin)
    src.transact(src_ep.functions.setDefaultSendLibrary(dst_eid, send_uln.address), admin)

    # -- destination: receive library and the same operators' DVNs
    recv_uln = deploy(dst, _lz("ReceiveUln302", "uln/uln302/ReceiveUln302.sol"),
                      dst_ep.address, sender=admin)
    dst_feed = deploy(dst, _lz("PriceFeed"), sender=admin)
    dst.transact(dst_feed.functions.initialize(admin.address), admin)
    dst_dvns = [_dvn(dst, admin, vid, recv_uln.address, dst_feed.address, s, src_eid)
                for vid, s in zip(vids, dvn_signers, strict=True)]
    dst.transact(recv_uln.functions.setDefaultUlnConfigs(
        [(src_eid, _uln_config([d.address for d in dst_dvns]))]), admin)
    dst.transact(dst_ep.functions.registerLibrary(recv_uln.address), admin)
    dst.transact(dst_ep.functions.setDefaultReceiveLibrary(src_eid, recv_uln.address, 0),
                 admin)
    receiver, _ = dst.deploy("PeerLayerZeroReceiverMock", sender=admin)
    return LayerZeroRig(src, dst, admin, dvn_signers, src_ep, dst_ep, recv_uln, dst_dvns,
                        receiver.address, lz_options(LZ_RECEIVE_GAS), vids)


def lz_send(rig: LayerZeroRig, message: bytes, sender: LocalAccount) -> tuple[int, bytes]:
    """EndpointV2.send paying the quoted fee; (gasUsed, the encoded packet)."""
    params = (rig.dst.chain_id, b32(rig.receiver), message, rig.options, False)
    native, _ = rig.src_endpoint.functions.quote(params, sender.address).call()
    receipt = rig.src.transact(rig.src_endpoint.functions.send(params, sender.address),
                               sender, value=native)
    events = rig.src_endpoint.events.PacketSent().process_receipt(receipt, errors=DISCARD)
    return gas(receipt), bytes(events[0]["args"]["encodedPayload"])


def _split(packet: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """(81-byte packet header, payload hash, guid, message) of a PacketV1 packet."""
    header, payload = packet[:81], packet[81:]
    return header, keccak(payload), payload[:32], payload[32:]


DVN_EXPIRATION = 4_102_444_800  # 2100-01-01: far enough, and the same in every run


def lz_dvn_verify(rig: LayerZeroRig, packet: bytes, index: int,
                  signer: LocalAccount | None = None) -> Any:
    """DVN ``index`` executes a quorum-signed ReceiveUln302.verify; the receipt."""
    header, payload_hash, _, _ = _split(packet)
    dvn = rig.dst_dvns[index]
    call_data = bytes.fromhex(rig.receive_uln.encode_abi(
        "verify", [header, payload_hash, 1])[2:])
    expiration = DVN_EXPIRATION  # fixed, so the signature (and calldata gas) is repeatable
    target = rig.receive_uln.address
    digest = keccak(rig.vids[index].to_bytes(4, "big") + bytes.fromhex(target[2:])
                    + expiration.to_bytes(32, "big") + call_data)
    sig = eth_sign(signer or rig.dvn_signers[index], digest)
    param = (rig.vids[index], target, call_data, expiration, sig)
    return rig.dst.transact(dvn.functions.execute([param]), rig.admin)


def lz_commit(rig: LayerZeroRig, packet: bytes, sender: LocalAccount) -> int:
    header, payload_hash, _, _ = _split(packet)
    return gas(rig.dst.transact(rig.receive_uln.functions.commitVerification(
        header, payload_hash), sender))


def lz_receive(rig: LayerZeroRig, packet: bytes, sender: LocalAccount) -> int:
    header, _, guid, message = _split(packet)
    nonce = int.from_bytes(header[1:9], "big")
    src_eid = int.from_bytes(header[9:13], "big")
    origin = (src_eid, header[13:45], nonce)
    fn = rig.dst_endpoint.functions.lzReceive(origin, rig.receiver, guid, message, b"")
    return gas(rig.dst.transact(fn, sender, gas=LZ_RECEIVE_GAS + 150_000))


def lz_forged_revert(rig: LayerZeroRig, packet: bytes, forger: LocalAccount,
                     relayer: LocalAccount) -> bytes:
    """DVN 1's execute carries a forged signature (it emits VerifySignaturesFailed and
    verifies nothing), whatever DVN 0 did: commitVerification's revert data."""
    receipt = lz_dvn_verify(rig, packet, 1, signer=forger)
    failed = rig.dst_dvns[1].events.VerifySignaturesFailed().process_receipt(
        receipt, errors=DISCARD)
    assert len(failed) == 1, "the forged DVN signature was not rejected"
    header, payload_hash, _, _ = _split(packet)
    return reverts(rig.dst, rig.receive_uln.functions.commitVerification(
        header, payload_hash), relayer)


# -- the benchmark -----------------------------------------------------------------------
def _body(size: int, tag: int) -> bytes:
    return (keccak(tag.to_bytes(32, "big")) * (size // 32 + 1))[:size]


def measure_hyperlane(rig: HyperlaneRig, user: LocalAccount, relayer: LocalAccount,
                      forger: LocalAccount) -> dict[str, int]:
    signers = rig.validators[:2]
    for i in range(HYPERLANE_WARMUP):
        _, warm = hyperlane_send(rig, _body(32, i), user)
    hyperlane_process(rig, hyperlane_metadata(rig, warm, signers), warm, relayer)
    out: dict[str, int] = {}
    for size in SIZES:
        out[f"send_{size}"], message = hyperlane_send(rig, _body(size, size), user)
        revert = hyperlane_forged_revert(rig, message, relayer, forger)
        assert b"!threshold" in revert, f"unexpected revert {revert.hex()}"
        out[f"receive_{size}"] = hyperlane_process(
            rig, hyperlane_metadata(rig, message, signers), message, relayer)
    return out


def measure_layerzero(rig: LayerZeroRig, user: LocalAccount, relayer: LocalAccount,
                      forger: LocalAccount) -> dict[str, int]:
    _, warm = lz_send(rig, _body(32, 0), user)
    for i in range(len(rig.dst_dvns)):
        lz_dvn_verify(rig, warm, i)
    lz_commit(rig, warm, relayer)
    lz_receive(rig, warm, relayer)
    out: dict[str, int] = {}
    for size in SIZES:
        out[f"send_{size}"], packet = lz_send(rig, _body(size, size), user)
        dvn = [gas(lz_dvn_verify(rig, packet, 0))]
        # DVN 1 with a forged signature verifies nothing: the packet cannot be committed
        revert = lz_forged_revert(rig, packet, forger, relayer)
        assert revert[:4] == LZ_ULN_VERIFYING, f"unexpected revert {revert.hex()}"
        dvn.append(gas(lz_dvn_verify(rig, packet, 1)))
        out[f"verify_{size}"] = sum(dvn)
        out[f"verify_dvn1_{size}"], out[f"verify_dvn2_{size}"] = dvn
        out[f"commit_{size}"] = lz_commit(rig, packet, relayer)
        out[f"execute_{size}"] = lz_receive(rig, packet, relayer)
        out[f"receive_{size}"] = (out[f"verify_{size}"] + out[f"commit_{size}"]
                                  + out[f"execute_{size}"])
    return out


def run(ctx: BenchContext) -> dict[str, dict[str, Any]]:
    if ctx.gas_only:
        return {}
    if not available():
        print("   skipped: peers not installed (run bench/peers/setup.sh)", flush=True)
        return {}
    src = ctx.client
    dst = Client(ctx.devnet.start(DEST_CHAIN, chain_id=DEST_CHAIN_ID).rpc_url)
    try:
        admin, user, relayer = ctx.account(0), ctx.account(1), ctx.account(3)
        forger = ctx.account(FORGER_INDEX)
        validators = [ctx.account(i) for i in VALIDATOR_INDEXES]
        dvn_signers = [ctx.account(i) for i in DVN_SIGNER_INDEXES]
        hl = deploy_hyperlane(src, dst, admin, validators)
        lz = deploy_layerzero(src, dst, admin, dvn_signers)
        peers: dict[str, Any] = {
            "hyperlane": measure_hyperlane(hl, user, relayer, forger),
            "layerzero": measure_layerzero(lz, user, relayer, forger),
        }
    finally:
        ctx.devnet.stop(DEST_CHAIN)
    return {"peers": peers}

