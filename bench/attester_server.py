"""One attester's publication served from its own process, as on its own machine:
``python -m bench.attester_server STORE ATTESTER`` prints the URL, serves until SIGTERM."""

from __future__ import annotations

import sys

from accord.crosschain.attestation_store import SqliteStore
from accord.crosschain.publication import serve_attestations
from accord.service import shutdown


def main() -> None:
    shutdown.install()
    server = serve_attestations(SqliteStore(sys.argv[1]), sys.argv[2])
    print(server.start(), flush=True)
    try:
        shutdown.STOP.wait()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
