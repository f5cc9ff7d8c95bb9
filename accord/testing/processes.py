"""Finding the processes a command started, for tests that check it left nothing running."""

from __future__ import annotations

from pathlib import Path

#: What the demo and the services start: chains, Accord's own commands, IPFS nodes.
MARKERS = ("anvil", "accord.cli", "ipfs/node.mjs")


def processes_under(state: Path, markers: tuple[str, ...] = MARKERS) -> list[int]:
    """Pids of live processes whose environment mentions ``state`` (every child of a command
    run with ``ACCORD_STATE_DIR`` under it inherits that) and whose command line contains one
    of ``markers``. Zombies count as gone."""
    pids = []
    needle = str(state).encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (proc / "environ").read_bytes()
            zombie = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except (OSError, IndexError):
            continue
        if needle in environ and not zombie and any(m in cmd for m in markers):
            pids.append(int(proc.name))
    return pids
