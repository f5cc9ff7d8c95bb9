"""Accord's Solidity interfaces, shipped with the package for users' own projects.

``INTERFACES`` holds ``IWorkflowCoordinator.sol``, its types, ``IAccordGateway.sol`` and the
rest of the repository's ``interfaces/`` (a symlink in a checkout, copied files in a wheel);
``OPENZEPPELIN`` holds the one OpenZeppelin 5.7 file they import
(``interfaces/draft-IERC7786.sol``, byte-identical to the npm package's, checked by a test),
so an ape project can compile against them offline from either a checkout or an installed
wheel. ``accord paths`` prints both folders for an ape-config.yaml.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent

INTERFACES = _HERE / "interfaces"
OPENZEPPELIN = _HERE / "openzeppelin"
