"""``accord dashboard`` and ``accord demo``."""

from __future__ import annotations

import click

from accord.cli.common import one_line_errors, open_in_browser


@click.command()
@click.option("--network", "networks", multiple=True,
              help="Show this network (repeatable) [default: the devnet manifest's chains].")
@click.option("--manifest", type=click.Path(dir_okay=False),
              help="Devnet manifest to follow [default: .accord/devnet.json; a running "
                   "'accord demo' writes .accord/demo/devnet.json].")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback keeps the page to this machine).")
@click.option("--port", type=int, default=8700, show_default=True, help="0 = any free port.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
@one_line_errors
def dashboard(networks: tuple[str, ...], manifest: str | None, host: str, port: int,
              open_browser: bool) -> None:
    """Serve a live web page of runs, step graphs, agents and cross-chain messages."""
    from pathlib import Path

    from accord.dashboard.data import Dashboard
    from accord.dashboard.server import DashboardServer
    from accord.dashboard.source import Source
    from accord.service.shutdown import STOP

    source = Source(Path(manifest) if manifest else None, networks)
    server = DashboardServer(Dashboard(source), host, port)
    url = server.start()
    click.echo(f"dashboard: {url} (reading {source.describe()}); Ctrl-C to stop")
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: listening on {host}: anyone who can reach it sees the page",
                   err=True)
    if open_browser:
        open_in_browser(url)
    try:
        STOP.wait()  # SIGTERM ends the wait (with SystemExit); Ctrl-C too
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    click.echo("dashboard stopped")


@click.command()
@click.option("--dashboard", "with_dashboard", is_flag=True,
              help="Serve the dashboard during the demo and keep it (and the chains) up "
                   "afterwards until Ctrl-C.")
@click.option("--dashboard-port", type=int, default=8700, show_default=True,
              help="Port of the dashboard; 0 = any free port.")
@click.option("--open", "open_browser", is_flag=True, help="With --dashboard: open a browser.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=1), default=240.0,
              show_default=True, help="Give up on the run after this many seconds (a busy "
                                      "machine may need more).")
@one_line_errors
def demo(with_dashboard: bool, dashboard_port: int, open_browser: bool,
         timeout_s: float) -> None:
    """Run the main job on three fresh local chains, each party its own operator, and stop
    everything afterwards."""
    from accord.dev.demo import DashboardOptions, run_demo

    opts = DashboardOptions(port=dashboard_port,
                            on_url=open_in_browser if open_browser else None
                            ) if with_dashboard else None
    run_demo(echo=click.echo, timeout=timeout_s, dashboard=opts)
