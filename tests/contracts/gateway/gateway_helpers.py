"""What the gateway tests share besides fixtures (conftest.py): a message's status as the enum."""

from __future__ import annotations

from typing import Any

from accord.chain.types import MessageStatus
from accord.crosschain.messages import Message


def status(gw: Any, m: Message) -> MessageStatus:
    """The status `gw` records for `m` (its first field of `messageStatus`)."""
    return MessageStatus(gw.messageStatus(m.origin_chain_id, m.origin_gateway, m.nonce, m.id)[0])
