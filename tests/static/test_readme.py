"""The README is the product's manual: every command `accord` has is named in it, `--help`
lists every command, and every image it shows is in the repository."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
from click.testing import CliRunner

from accord.cli import cli

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None or cmd.hidden:
            continue
        path = f"{prefix} {name}".strip()
        yield path, cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path)


COMMANDS = sorted(path for path, _ in _commands(cli))


def test_the_readme_names_every_command() -> None:
    missing = [path for path in COMMANDS if f"accord {path}" not in README]
    assert not missing, f"README never shows: {', '.join('accord ' + m for m in missing)}"


def test_help_lists_every_command_with_a_summary() -> None:
    runner = CliRunner()
    groups = {"": cli} | {path: cmd for path, cmd in _commands(cli)
                          if isinstance(cmd, click.Group)}
    for path, group in groups.items():
        out = runner.invoke(cli, [*path.split(), "--help"])
        assert out.exit_code == 0, out.output
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            sub = group.get_command(ctx, name)
            assert sub is not None
            if sub.hidden:
                continue
            assert re.search(rf"^\s+{re.escape(name)}\s+\S", out.output, re.M), (
                f"'accord {path} --help' does not list '{name}' with a summary:\n{out.output}")


def test_every_image_the_readme_shows_is_in_the_repository() -> None:
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert "docs/images/dashboard.png" in images
    for image in images:
        assert (ROOT / image).is_file(), image
