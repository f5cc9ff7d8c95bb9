"""The ``accord`` command line (``accord.cli:main``; ``ape accord`` runs ``accord.cli:cli``).
One module per command group; :mod:`accord.cli.common` holds what they share."""

from accord.cli.app import cli, main

__all__ = ["cli", "main"]
