"""`ape run deploy --network <devnet name | ape network choice> [...]`: deploy and wire the
whole suite, idempotently. The same command as `accord deploy` (see `--help`)."""

from accord.cli import deploy as cli

__all__ = ["cli"]
