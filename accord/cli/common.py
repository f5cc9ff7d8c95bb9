"""What every command group of the ``accord`` command line shares: one-line errors (every error
a user can cause prints one line and exits non-zero), the network/signer options and the
lookups behind them (RPC URL, coordinator, signer, the attestation store)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from accord.errors import AccordError

F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(fn: F) -> F:
    """Turn AccordError (and Ctrl-C) into one line on stderr and a non-zero exit."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AccordError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted; everything this command started has been stopped", err=True)
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug or an error we did not foresee: still one line
            if os.environ.get("ACCORD_DEBUG"):
                raise
            click.echo(f"error: unexpected {type(exc).__name__}: {_first_line(exc)} "
                       f"(traceback in {_save_traceback()}; ACCORD_DEBUG=1 shows it here)",
                       err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else "(no message)"


def _save_traceback() -> str:
    """Write the current exception's traceback where the user can send it; return the path."""
    import traceback

    from accord.paths import state_dir

    try:
        path = state_dir() / "logs" / "last-error.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(traceback.format_exc())
        return str(path)
    except OSError:
        return "nowhere: the state directory is not writable"


def store_path(store: str | None) -> str:
    from accord.paths import state_dir

    return store or str(state_dir() / "relay.sqlite")


def open_store(store: str | None) -> Any:
    """The validators' and relayer's SQLite store (its folder created), or a one-line error."""
    import sqlite3
    from pathlib import Path

    from accord.crosschain.attestation_store import SqliteStore
    from accord.errors import ConfigError

    path = Path(store_path(store))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteStore(path)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"cannot open the message store {path} ({exc}); pass --store with a "
                          "writable path to an SQLite file (or a new one)") from None


def open_in_browser(url: str) -> None:
    import webbrowser

    if not webbrowser.open(url):
        click.echo("no browser found here; open the URL yourself", err=True)


NETWORK_HELP = "Devnet name (chaina) or a network whose deployment manifest exists."


def network_name(network: str) -> str:
    return network.split(":")[1] if ":" in network else network


def client_for(network: str, rpc: str | None, max_rps: float | None = None) -> Any:
    """A Client for the network (at most ``max_rps`` requests/s), or a one-line ChainError
    when the node does not answer."""
    from accord.chain.client import Client
    from accord.deploy import context
    from accord.errors import ChainError

    url = rpc or context.rpc_url(network)
    try:
        return Client(url, timeout=10, max_rps=max_rps)
    except Exception as exc:  # requests/urllib3 connection errors
        raise ChainError(f"cannot reach the RPC of '{network}' at {url} "
                         f"({type(exc).__name__}); start it with 'accord devnet up' or pass "
                         "--rpc") from None


def coordinator_address(network: str, client: Any = None) -> str:
    """The coordinator's address from the manifest; given a client, also checked against the
    chain (the node is the manifest's chain, the address holds code)."""
    from accord.deploy import context

    if client is None:
        return context.address(network, "coordinator")
    return context.deployed(client, network, "coordinator")


def coordinator_client(network: str, rpc: str | None,
                       max_rps: float | None = None) -> tuple[str, Any, str]:
    """The network's name, a client for it and its coordinator (checked against the chain).
    A network without a deployment fails with one line before any connection is tried."""
    name = network_name(network)
    coordinator_address(name)
    client = client_for(name, rpc, max_rps)
    return name, client, coordinator_address(name, client)


def signer_for(network: str, key_env: str | None, dev_account: int | None,
            account: str | None) -> Any:
    from accord.deploy import context

    if account is None and key_env is None and dev_account is None and context.is_devnet(
            network):
        dev_account = 0
    return context.signer(key_env, dev_account, network, account)


def signer_options(fn: Any) -> Any:
    fn = click.option("--dev-account", type=int,
                      help="Devnets only: sign with anvil dev account N [default: 0].")(fn)
    fn = click.option("--key-env", help="Environment variable holding the signer's key.")(fn)
    fn = click.option("--account", help="ape account alias (passphrase in "
                                        "APE_ACCOUNTS_<alias>_PASSPHRASE).")(fn)
    return fn


def rpc_budget_option(fn: Any) -> Any:
    """``--rpc-budget``: at most this many JSON-RPC requests per second to each node."""
    return click.option("--rpc-budget", type=click.FloatRange(min=0.1), default=None,
                        help="At most this many JSON-RPC requests per second to each node "
                             "(a rate-limited endpoint) [default: no limit].")(fn)


#: How long an idle attester or relayer waits before asking its chains again.
DEFAULT_POLL_S = 0.2


def poll_option(fn: Any) -> Any:
    """``--poll-seconds``: the pause after a pass that found nothing to do."""
    return click.option("--poll-seconds", "poll_seconds", type=click.FloatRange(min=0.01),
                        default=DEFAULT_POLL_S, show_default=True,
                        help="Seconds an idle service waits before asking its chains again (a "
                             "pass that found work goes on at once).")(fn)


def network_options(fn: Any) -> Any:
    fn = click.option("--rpc", help="RPC URL [default: from the devnet manifest or "
                                    "ape-config.yaml].")(fn)
    fn = click.option("--network", required=True, help=NETWORK_HELP)(fn)
    return fn
