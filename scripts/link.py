"""`ape run link chaina chainb`: make the gateways of several networks trust each other."""

from accord.cli import link as cli

__all__ = ["cli"]
