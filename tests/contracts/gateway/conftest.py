"""Gateway fixtures: two AccordGateways on one anvil that treat each other as the remote gateway
of "origin chain" = this chain id (the single-chain path; two real chains come with the
relayer tests), a 2-of-3 validator set of eth_account keys, and recipients."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from accord.crosschain.messages import (
    DEFAULT_GAS_LIMIT,
    Message,
    attestation_digest,
    batch_root,
    encode_interop_address,
    expiry_attribute,
    pack_signatures,
    sign_digest,
)

GAS_LIMIT = 200_000


def _key(i: int) -> LocalAccount:
    return Account.from_key((0xACC0 + i).to_bytes(32, "big"))


@pytest.fixture(scope="module")
def validators() -> list[LocalAccount]:
    """Three validator keys, sorted by address (the order signatures must follow)."""
    return sorted((_key(i) for i in range(3)), key=lambda a: int(a.address, 16))


@pytest.fixture(scope="module")
def outsider() -> LocalAccount:
    return _key(99)


@pytest.fixture(scope="module")
def admin(accounts: Any) -> Any:
    return accounts[0]


@pytest.fixture(scope="module")
def relayer(accounts: Any) -> Any:
    return accounts[1]


@pytest.fixture(scope="module")
def user(accounts: Any) -> Any:
    return accounts[2]


@pytest.fixture(scope="module")
def chain_id(chain: Any) -> int:
    return int(chain.chain_id)


def _deploy_pair(project: Any, admin: Any, validators: list[LocalAccount],
                 chain_id: int) -> tuple[Any, Any]:
    """(src, dst): dst trusts src as the gateway of `chain_id`, and src trusts dst (for expiry
    notices), both with the same 2-of-3 validator set."""
    src = project.AccordGateway.deploy(admin, sender=admin)
    dst = project.AccordGateway.deploy(admin, sender=admin)
    addrs = [v.address for v in validators]
    for gw, remote in ((src, dst), (dst, src)):
        gw.setTrustedGateway(chain_id, remote, sender=admin)
        gw.setValidatorSet(chain_id, addrs, 2, sender=admin)
    return src, dst


@pytest.fixture(scope="module")
def gateways(project: Any, admin: Any, validators: list[LocalAccount],
             chain_id: int) -> tuple[Any, Any]:
    """The module's (src, dst) pair (see `_deploy_pair`)."""
    return _deploy_pair(project, admin, validators, chain_id)


@pytest.fixture
def pair(project: Any, admin: Any, validators: list[LocalAccount], chain_id: int) -> tuple[Any, Any]:
    """A fresh (src, dst) pair per test, so a test may rotate sets and routes freely."""
    return _deploy_pair(project, admin, validators, chain_id)


@pytest.fixture(scope="module")
def src(gateways: tuple[Any, Any]) -> Any:
    return gateways[0]


@pytest.fixture(scope="module")
def dst(gateways: tuple[Any, Any]) -> Any:
    return gateways[1]


@pytest.fixture(scope="module")
def recipient(project: Any, admin: Any) -> Any:
    return project.MockRecipient.deploy(sender=admin)


@pytest.fixture(scope="module")
def recipients(project: Any, admin: Any) -> list[Any]:
    return [project.MockRecipient.deploy(sender=admin) for _ in range(3)]


@pytest.fixture(scope="module")
def make_message(src: Any, user: Any, chain_id: int) -> Callable[..., Message]:
    """A message as src would emit it (not actually sent: validators sign whatever they are
    given, so tests can pick nonces freely)."""

    def make(recipient: Any, payload: bytes = b"\x11" * 32, *, nonce: int = 0, expiry: int = 0,
             sender: str | None = None, destination: int | None = None,
             origin_gateway: str | None = None, gas_limit: int = DEFAULT_GAS_LIMIT) -> Message:
        return Message(
            origin_chain_id=chain_id,
            origin_gateway=origin_gateway or src.address,
            nonce=nonce,
            sender=sender or user.address,
            destination_chain_id=chain_id if destination is None else destination,
            recipient=recipient if isinstance(recipient, str) else recipient.address,
            expiry=expiry,
            payload=payload,
            gas_limit=gas_limit,
        )

    return make


@pytest.fixture(scope="module")
def sign(validators: list[LocalAccount]) -> Callable[..., bytes]:
    """Packed signatures over a message id (or, with batch=True, a batch root)."""

    def do(message: Message | None = None, *, signers: Sequence[LocalAccount] | None = None,
           root: bytes | None = None, origin_gateway: str | None = None,
           origin_chain_id: int | None = None, ordered: bool = True) -> bytes:
        chosen = list(validators[:2] if signers is None else signers)
        if root is not None:
            assert origin_gateway is not None and origin_chain_id is not None
            digest = attestation_digest(origin_chain_id, origin_gateway, root, batch=True)
        else:
            assert message is not None
            digest = attestation_digest(message.origin_chain_id, message.origin_gateway,
                                        message.id)
        pairs = [(a.address, sign_digest(a, digest)) for a in chosen]
        if ordered:
            return pack_signatures(pairs)
        return b"".join(sig for _, sig in pairs)

    return do


@pytest.fixture(scope="module")
def sign_batch(sign: Callable[..., bytes]) -> Callable[..., bytes]:
    def do(messages: Sequence[Message], ids: Sequence[bytes] | None = None,
           signers: Sequence[LocalAccount] | None = None) -> bytes:
        root = batch_root(list(ids) if ids is not None else [m.id for m in messages])
        first = messages[0]
        return sign(root=root, origin_gateway=first.origin_gateway,
                    origin_chain_id=first.origin_chain_id, signers=signers)

    return do


@pytest.fixture(scope="module")
def interop(chain_id: int) -> Callable[[Any], bytes]:
    return lambda a: encode_interop_address(chain_id, a if isinstance(a, str) else a.address)


@pytest.fixture(scope="module")
def expiry_attr() -> Callable[[int], bytes]:
    return expiry_attribute


@pytest.fixture(scope="module")
def sent_messages() -> Callable[[Any, Any], list[Message]]:
    """Messages a gateway emitted in `tx`, rebuilt from MessageSent + MessageNonce the way a
    relayer does it."""
    from accord.crosschain.messages import message_from_sent

    def read(gateway: Any, tx: Any) -> list[Message]:
        sent = tx.decode_logs(gateway.MessageSent)
        nonces = {bytes(n.id): n.nonce for n in tx.decode_logs(gateway.MessageNonce)}
        out = []
        for s in sent:
            m = message_from_sent(gateway.address, bytes(s.sender), bytes(s.recipient),
                                  bytes(s.payload), [bytes(a) for a in s.attributes],
                                  nonces[bytes(s.sendId)])
            assert m.id == bytes(s.sendId)
            out.append(m)
        return out

    return read
