"""One exception hierarchy for Accord; every message says what to do next."""

from __future__ import annotations


class AccordError(Exception):
    """Root of every error Accord raises on purpose.

    The CLI prints ``str(error)`` as one line and exits non-zero, so messages must be
    complete sentences that tell the user what to do.
    """


class ConfigError(AccordError, ValueError):
    """The project configuration (ape-config.yaml, a manifest, a YAML file) is wrong."""


class ToolchainError(AccordError, RuntimeError):
    """A tool Accord needs (node, anvil, the compiler, build artifacts) is missing."""


class DevnetError(AccordError, RuntimeError):
    """A local chain could not be started, reached or stopped."""


class ChainError(AccordError, RuntimeError):
    """A transaction or call failed on a chain."""


class ContractRevert(ChainError):
    """A transaction or call reverted; ``name`` and ``args`` hold the decoded custom error."""

    def __init__(self, name: str, args: tuple[object, ...], data: str) -> None:
        self.name = name
        self.args_ = args
        self.data = data
        shown = ", ".join(repr(a) for a in args)
        super().__init__(f"reverted with {name}({shown})")


class MessageFormatError(AccordError, ValueError):
    """A cross-chain message, address or signature does not follow the gateway's format."""


class PaymentError(AccordError, ValueError):
    """A relayer fee cannot be quoted or paid as asked (no gas oracle for the destination, a
    quote above the payer's limit, a refund address that rejects ETH, an unknown message)."""
