"""``accord results``: the HTTP result service that lets agents on different machines read
each other's inputs and results."""

from __future__ import annotations

import click

from accord.cli.common import one_line_errors


@click.group()
def results() -> None:
    """Serve workflow inputs and results over HTTP, content-addressed."""


@results.command("serve")
@click.option("--dir", "directory", type=click.Path(file_okay=False),
              help="Where the blobs are kept [default: <state>/result-service].")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=int, default=8710, show_default=True, help="0 = any free port.")
@click.option("--token-env", default="ACCORD_RESULTS_TOKEN", show_default=True,
              help="Environment variable holding the token a PUT must carry (publishers "
                   "set the same variable).")
@click.option("--public-url", help="The URL readers reach this service at, written into "
                                   "the URIs it answers [default: what the request names].")
@one_line_errors
def results_serve(directory: str | None, host: str, port: int, token_env: str,
                  public_url: str | None) -> None:
    """Serve blobs: PUT /blobs with the bearer token stores one, GET /blobs/<hash> reads it.

    Agents publish here with --store http://HOST:PORT (or 'store:' in agents.yaml) and the
    same token in ACCORD_RESULTS_TOKEN; every reader checks each blob against its on-chain
    hash, so the service is trusted to keep blobs available, never to keep them intact."""
    import os
    from pathlib import Path

    from accord.errors import ConfigError
    from accord.paths import state_dir
    from accord.service.http import BackgroundHttpServer
    from accord.service.shutdown import STOP
    from accord.workflows.result_service import make_app
    from accord.workflows.result_store import ResultStore

    token = os.environ.get(token_env, "")
    if len(token) < 16:
        raise ConfigError(f"set {token_env} to a secret of at least 16 characters: PUTs must "
                          "carry it (agents that publish here set the same variable)")
    store = ResultStore(Path(directory) if directory else state_dir() / "result-service")
    server = BackgroundHttpServer(lambda: make_app(store, token, public_url=public_url),
                                  host, port, name="the result service")
    url = server.start()
    click.echo(f"results: {url.rstrip('/')} (blobs in {store.root}); Ctrl-C to stop")
    try:
        STOP.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    click.echo("result service stopped")


@results.command("ipfs")
@click.option("--dir", "directory", type=click.Path(file_okay=False),
              help="Where the node keeps its key (a stable peer id) and its blocks "
                   "[default: <state>/ipfs].")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address the HTTP API listens on (0.0.0.0: every interface).")
@click.option("--port", type=int, default=8711, show_default=True, help="0 = any free port.")
@click.option("--p2p-host", default="127.0.0.1", show_default=True,
              help="Address libp2p listens on for other IPFS nodes (0.0.0.0: every "
                   "interface).")
@click.option("--p2p-port", type=int, default=0, show_default=True,
              help="libp2p TCP port (0 = any free port; fix it so peers can keep your "
                   "address).")
@click.option("--peer", "peers", multiple=True, metavar="MULTIADDR",
              help="Another IPFS node to stay connected to, /ip4/HOST/tcp/PORT/p2p/PEERID "
                   "(repeatable); blocks this node lacks are fetched from its peers.")
@click.option("--fetch-timeout", type=float, default=10.0, show_default=True,
              help="Seconds a read waits for a block from peers before answering 404.")
@one_line_errors
def results_ipfs(directory: str | None, host: str, port: int, p2p_host: str, p2p_port: int,
                 peers: tuple[str, ...], fetch_timeout: float) -> None:
    """Run an IPFS node (helia) for ipfs:// inputs and results.

    Agents publish with --store ipfs+http://HOST:PORT (or 'store:' in agents.yaml) and the
    node's token in ACCORD_IPFS_TOKEN; readers point ACCORD_IPFS_GATEWAYS at their own node.
    Each result is one raw block (at most 1 MiB) named by its CID; every reader checks it
    against the CID and the chain's hash, so nodes are trusted to keep blocks available,
    never to keep them intact. Peer the nodes of publishers, pinning nodes and readers with
    --peer so a result stays reachable after its publisher goes offline."""
    import os
    from pathlib import Path

    from accord.ipfs.node import TOKEN_ENV, IpfsNode
    from accord.paths import state_dir
    from accord.service.shutdown import STOP

    folder = Path(directory) if directory else state_dir() / "ipfs"
    node = IpfsNode(folder, os.environ.get(TOKEN_ENV, ""), host=host, port=port,
                    p2p_host=p2p_host, p2p_port=p2p_port, peers=list(peers),
                    fetch_timeout_s=fetch_timeout)
    node.start()
    info = node.info
    click.echo(f"ipfs: {info.api} (blocks in {folder / 'blocks'}); peer address "
               f"{info.peer_address}; Ctrl-C to stop")
    try:
        while node.alive() and not STOP.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        node.stop()
        click.echo("ipfs node stopped")
