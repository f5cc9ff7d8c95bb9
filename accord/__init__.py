"""Accord: the coordination layer for multi-agent systems on EVM chains.

The package is split into small modules that each own one thing:

- :mod:`accord.errors`    the one exception hierarchy;
- :mod:`accord.config`    the project root, ape-config.yaml and the toolchain paths;
- :mod:`accord.artifacts` compiled contracts (ape's build manifest);
- :mod:`accord.devnet`    named local anvil chains and forks;
- :mod:`accord.chain`     a small web3.py client per chain (deploy, transact, decode errors);
- :mod:`accord.cli`       the ``accord`` command line.

Heavy imports (web3, ape) are deferred so that ``accord --help`` starts fast.
"""

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """``accord.connect``, ``accord.deployment`` and ``accord.Accord`` (the Python API,
    :mod:`accord.api`), imported on first use so that ``accord --help`` stays fast."""
    if name in ("connect", "deployment", "Accord", "RunSummary"):
        from accord import api

        return getattr(api, name)
    raise AttributeError(f"module 'accord' has no attribute {name!r}")
