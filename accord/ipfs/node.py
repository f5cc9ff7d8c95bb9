"""One IPFS node process (``node.mjs``: helia with libp2p TCP, noise, yamux and bitswap) and
its HTTP API: started on loopback by default, stopped by its own process id.

The node's API is documented in ``node.mjs``; ``accord results ipfs`` runs one in the
foreground and the test fixtures start several (publisher, pinning node, reader) to show a
block travelling between peers over bitswap."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from accord.errors import ConfigError, ToolchainError
from accord.service import shutdown

TOKEN_ENV = "ACCORD_IPFS_TOKEN"  # noqa: S105 (a variable name, not a secret)
SCRIPT = Path(__file__).with_name("node.mjs")
READY_TIMEOUT_S = 60.0  # module loading alone takes 1-2 s; a busy machine needs more
STOP_TIMEOUT_S = 3.0


@dataclass
class NodeInfo:
    """What a started node answers: its API URL, libp2p peer id and listen addresses."""

    api: str
    peer_id: str
    addrs: list[str] = field(default_factory=list)

    @property
    def peer_address(self) -> str:
        """The address other nodes pass as ``--peer`` (the first listen address)."""
        return self.addrs[0]


def _node_executable() -> str:
    node = shutil.which("node")
    if node is None:
        raise ToolchainError("Node.js is needed for the IPFS node; install Node.js 20+ and "
                             "run 'make setup'")
    return node


def _check_installed() -> None:
    for parent in (SCRIPT.parent, *SCRIPT.parents):
        if (parent / "node_modules" / "@helia" / "utils" / "package.json").is_file():
            return
    raise ToolchainError("the IPFS node's npm packages (helia, libp2p) are not installed; "
                         "run 'make setup' in the Accord checkout")


class IpfsNode:
    """``with IpfsNode(folder, token, peers=[...]) as node: node.info.api``.

    ``folder`` keeps the node's libp2p key (a stable peer id across restarts) and its blocks.
    ``stop()`` ends it early (a node going away mid-run)."""

    def __init__(self, folder: Path, token: str, *, host: str = "127.0.0.1", port: int = 0,
                 p2p_host: str = "127.0.0.1", p2p_port: int = 0,
                 peers: list[str] | None = None, fetch_timeout_s: float = 10.0) -> None:
        if len(token) < 16:
            raise ConfigError(f"set {TOKEN_ENV} to a secret of at least 16 characters: writes "
                              "to the IPFS node must carry it")
        self.folder = Path(folder)
        self.token = token
        self.args = ["--dir", str(self.folder), "--host", host, "--port", str(port),
                     "--p2p-host", p2p_host, "--p2p-port", str(p2p_port),
                     "--fetch-timeout", str(fetch_timeout_s)]
        for peer in peers or []:
            self.args += ["--peer", peer]
        self.proc: subprocess.Popen[str] | None = None
        self._info: NodeInfo | None = None
        self._lines: list[str] = []
        self._ready = threading.Event()

    @property
    def info(self) -> NodeInfo:
        if self._info is None:
            raise ConfigError("the IPFS node is not running; start() it first")
        return self._info

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> IpfsNode:
        """Launch the node and wait until it answers (ToolchainError if it cannot start)."""
        return self.launch().wait_ready()

    def launch(self) -> IpfsNode:
        """Start the process without waiting (start several, then ``wait_ready`` each)."""
        _check_installed()
        self.folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, TOKEN_ENV: self.token}
        self.proc = subprocess.Popen([_node_executable(), str(SCRIPT), *self.args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env)
        shutdown.track(self.proc.pid)  # never outlives a CLI that is told to stop
        self._ready = threading.Event()
        threading.Thread(target=self._read, args=(self._ready,), daemon=True).start()
        return self

    def wait_ready(self) -> IpfsNode:
        if not self._ready.wait(READY_TIMEOUT_S) or self._info is None:
            self.stop()
            said = " | ".join(self._lines[-5:]) or "nothing"
            raise ToolchainError(f"the IPFS node did not start within {READY_TIMEOUT_S:.0f} s;"
                                 f" it said: {said}")
        return self

    def _read(self, ready: threading.Event) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip()
            self._lines.append(line)
            del self._lines[:-50]
            if self._info is None and line.startswith("{"):
                try:
                    d = json.loads(line)
                    self._info = NodeInfo(d["api"], d["peerId"], list(d["addrs"]))
                except (ValueError, KeyError, TypeError):
                    continue
                ready.set()
        ready.set()  # the process ended

    def connect(self, peer_address: str) -> None:
        """Dial another node and keep dialling it (``POST /peers`` with the token)."""
        import requests

        resp = requests.post(f"{self.info.api}/peers", data=peer_address, timeout=30,
                             headers={"Authorization": f"Bearer {self.token}"})
        if resp.status_code != 200:
            raise ToolchainError(f"the IPFS node {self.info.api} could not dial "
                                 f"{peer_address}: {resp.text[:200]}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT_S; by this object's own pid."""
        if self.proc is None:
            return
        shutdown.untrack(self.proc.pid)
        shutdown.stop_child(self.proc, STOP_TIMEOUT_S)

    def wait(self) -> int:
        """Block until the node exits (the CLI's foreground mode); its exit code."""
        assert self.proc is not None
        return self.proc.wait()

    def __enter__(self) -> IpfsNode:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
