"""Accord: the coordination layer for multi-agent systems on EVM chains.

The folders are the architecture; each module owns one thing:

- :mod:`accord.api`        the Python API (``accord.connect``, ``accord.deployment``);
- :mod:`accord.errors`     the one exception hierarchy;
- :mod:`accord.paths`      where things are: the project root, ape-config.yaml, the toolchain;
- :mod:`accord.settings`   what ape-config.yaml's ``accord:`` section says;
- :mod:`accord.chain`      one chain: sync and async clients, events, artifacts, typed mirror;
- :mod:`accord.crosschain` messages between chains: codec, attester, relayer, keeper, trace;
- :mod:`accord.workflows`  the YAML compiler, runs, status, step names, stuck remote steps;
- :mod:`accord.agents`     the agent runtime (host, scheduling, execution, judging, liveness);
- :mod:`accord.deploy`     deployment plans, the suite, links between chains, doctor;
- :mod:`accord.dev`        local devnets, the service supervisor, the demo;
- :mod:`accord.service`    the loop and stop signal every long-running service shares;
- :mod:`accord.dashboard`  the live web page;
- :mod:`accord.cli`        the ``accord`` command line, one module per command group;
- :mod:`accord.testing`    what tests and benchmarks use (fault proxy, negative matrix, model).

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
