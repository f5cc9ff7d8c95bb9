"""Process checks the devnet tests share."""

from __future__ import annotations

from pathlib import Path


def gone(pid: int) -> bool:
    """The process has exited (no /proc entry, or a zombie nobody has reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"
