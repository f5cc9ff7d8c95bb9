"""Dashboard tests: the page's script bundle is built (as `make setup` does) when missing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "accord" / "dashboard" / "web"


@pytest.fixture(scope="session", autouse=True)
def bundle() -> Path:
    """accord/dashboard/static/app.js, rebuilt with esbuild when older than its sources."""
    from accord.dashboard.server import BUNDLE

    newest = max(p.stat().st_mtime for p in WEB.iterdir())
    if not BUNDLE.is_file() or BUNDLE.stat().st_mtime < newest:
        esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
        if not esbuild.exists():
            pytest.fail("esbuild is missing; run 'make setup'")
        subprocess.run([str(esbuild), str(WEB / "main.js"), "--bundle", "--minify",
                        "--target=es2020", "--log-level=warning", f"--outfile={BUNDLE}"],
                       check=True, cwd=ROOT)
    return BUNDLE


@pytest.fixture
def chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("chromium is missing; 'make test' installs it (apt-get install chromium)")
    return path
