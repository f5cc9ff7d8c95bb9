"""``python -m accord.cli``: the ``accord`` command."""

from accord.cli.app import main

main()
