"""Bad input to the CLI: each mistake a user can make prints one line that says what to do,
exits 1, and changes nothing (no file written in the state folder, no transaction sent)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from agent_helpers import Suite, assert_one_line_error, run_cli

from accord.chain.client import Client
from accord.dev.devnet import Chain

ROOT = Path(__file__).resolve().parents[2]
RESEARCH = str(ROOT / "examples" / "research.yaml")
NO_CODE = "0x000000000000000000000000000000000000dEaD"
BAD_CHECKSUM = "0xAbCdEF0000000000000000000000000000000001"


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def unchanged(suite: Suite, chainb: Chain) -> Callable[[], None]:
    """Records the state folder and both chains' heads; calling it asserts nothing moved."""
    other = Client(chainb.rpc_url)
    before = (_tree(suite.root), suite.client.w3.eth.block_number, other.w3.eth.block_number)

    def check() -> None:
        after = (_tree(suite.root), suite.client.w3.eth.block_number, other.w3.eth.block_number)
        assert after == before

    return check


def _binary(tmp: Path) -> str:
    path = tmp / "photo.yaml"
    path.write_bytes(bytes(range(128, 256)))
    return str(path)


# (id, argv builder taking (env, tmp_path, chainb url), expected start of the error line)
CASES: list[tuple[str, Callable[[dict[str, str], Path, str], list[str]], str]] = [
    ("workflow-file-not-text",
     lambda env, tmp, b: ["workflow", "define", _binary(tmp), "--network", "chaina",
                          "--rpc", env["rpc"], "--key-env", "ACCORD_TEST_KEY"],
     "{tmp}/photo.yaml is not UTF-8 text"),
    ("agents-file-missing",
     lambda env, tmp, b: ["agents", "run", "--network", "chaina", "--rpc", env["rpc"],
                          "--config", str(tmp / "nope.yaml")],
     "cannot read agents file {tmp}/nope.yaml"),
    ("rpc-of-another-chain",
     lambda env, tmp, b: ["workflow", "status", "1", "--network", "chaina", "--rpc", b],
     "the deployment manifest of 'chaina'"),
    ("start-on-another-chain",
     lambda env, tmp, b: ["workflow", "start", RESEARCH, "--network", "chaina", "--rpc", b,
                          "--key-env", "ACCORD_TEST_KEY"],
     "the deployment manifest of 'chaina'"),
    ("unknown-network",
     lambda env, tmp, b: ["deploy", "--network", "ethereum:atlantis", "--key-env",
                          "ACCORD_TEST_KEY"],
     "unknown network 'atlantis'; known: chaina, chainb, chainc"),
    ("malformed-network-choice",
     lambda env, tmp, b: ["deploy", "--network", ":sepolia", "--key-env", "ACCORD_TEST_KEY"],
     "':sepolia' is not a network"),
    ("dev-account-on-a-live-network",
     lambda env, tmp, b: ["deploy", "--network", "ethereum:sepolia", "--dev-account", "0"],
     "--dev-account is for devnets only"),
    ("key-variable-empty",
     lambda env, tmp, b: ["workflow", "start", RESEARCH, "--network", "chaina", "--rpc",
                          env["rpc"], "--key-env", "ACCORD_UNSET_KEY"],
     "environment variable ACCORD_UNSET_KEY is empty"),
    ("gateway-not-an-address",
     lambda env, tmp, b: ["validate", "--chain", env["rpc"], "--key-env", "ACCORD_TEST_KEY",
                          "--gateway", "0x123", "--store", str(tmp / "v.sqlite")],
     "--gateway '0x123' is not an address"),
    ("gateway-bad-checksum",
     lambda env, tmp, b: ["validate", "--chain", env["rpc"], "--key-env", "ACCORD_TEST_KEY",
                          "--gateway", BAD_CHECKSUM, "--store", str(tmp / "v.sqlite")],
     f"--gateway '{BAD_CHECKSUM}' fails its EIP-55 checksum"),
    ("serve-not-host-port",
     lambda env, tmp, b: ["validate", "--chain", env["rpc"], "--key-env", "ACCORD_TEST_KEY",
                          "--serve", "8801", "--store", str(tmp / "v.sqlite")],
     "--serve '8801' is not HOST:PORT"),
    ("public-url-not-http",
     lambda env, tmp, b: ["validate", "--chain", env["rpc"], "--key-env", "ACCORD_TEST_KEY",
                          "--serve", "127.0.0.1:0", "--public-url", "file:///etc",
                          "--store", str(tmp / "v.sqlite")],
     "an attester location must be an http:// or https:// URL"),
    ("gateway-without-code",
     lambda env, tmp, b: ["relay", "--from", b, "--to", env["rpc"], "--key-env",
                          "ACCORD_TEST_KEY", "--gateway", NO_CODE, "--store",
                          str(tmp / "r.sqlite")],
     f"no contract at --gateway {NO_CODE}"),
    ("rpc-url-names-no-deployment",
     lambda env, tmp, b: ["relay", "--from", b, "--to", env["rpc"], "--key-env",
                          "ACCORD_TEST_KEY", "--store", str(tmp / "r.sqlite")],
     "'{rpc}' is an RPC URL, which names no deployment"),
    ("definition-id-too-short",
     lambda env, tmp, b: ["workflow", "start", "0x12", "--network", "chaina", "--rpc",
                          env["rpc"], "--key-env", "ACCORD_TEST_KEY"],
     "'0x12' is neither a 0x definition id"),
    ("definition-not-registered",
     lambda env, tmp, b: ["workflow", "start", "0x" + "ab" * 32, "--network", "chaina",
                          "--rpc", env["rpc"], "--key-env", "ACCORD_TEST_KEY"],
     "definition 0x" + "ab" * 32 + " is not registered"),
    ("budget-not-an-amount",
     lambda env, tmp, b: ["workflow", "start", RESEARCH, "--network", "chaina", "--rpc",
                          env["rpc"], "--key-env", "ACCORD_TEST_KEY", "--budget", "lots"],
     "--budget 'lots' is not an amount"),
    ("budget-below-the-rewards",
     lambda env, tmp, b: ["workflow", "start", RESEARCH, "--network", "chaina", "--rpc",
                          env["rpc"], "--key-env", "ACCORD_TEST_KEY", "--budget", "1 wei"],
     "--budget 1 wei is below the run's rewards"),
    ("input-file-missing",
     lambda env, tmp, b: ["workflow", "start", RESEARCH, "--network", "chaina", "--rpc",
                          env["rpc"], "--key-env", "ACCORD_TEST_KEY", "--input",
                          str(tmp / "nope.bin")],
     "cannot read --input {tmp}/nope.bin"),
    ("message-id-malformed",
     lambda env, tmp, b: ["message", "status", "0x1234", "--network", "chaina"],
     "'0x1234' is not a message id"),
    ("message-id-not-hex",
     lambda env, tmp, b: ["message", "status", "0x" + "zz" * 32, "--network", "chaina"],
     "'0x" + "zz" * 32 + "' is not a message id"),
]


@pytest.mark.parametrize(("argv", "starts"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_1_and_changes_nothing(
        argv: Callable[[dict[str, str], Path, str], list[str]], starts: str,
        env: dict[str, str], tmp_path: Path, chainb: Chain,
        unchanged: Callable[[], None]) -> None:
    args = argv(env, tmp_path, chainb.rpc_url)
    assert_one_line_error(run_cli(*args),
                          starts.format(tmp=tmp_path, rpc=env["rpc"]))
    unchanged()
    assert not list(tmp_path.glob("*.sqlite*")), "a store was created by a failing command"


def test_a_store_that_is_not_a_database_is_one_line_and_left_alone(
        suite: Suite, env: dict[str, str], chainb: Chain, tmp_path: Path,
        unchanged: Callable[[], None]) -> None:
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("my notes\n" * 100)
    result = run_cli("relay", "--from", chainb.rpc_url, "--to", env["rpc"], "--key-env",
                     "ACCORD_TEST_KEY", "--gateway", suite.addresses["gateway"], "--store",
                     str(not_a_db))
    assert_one_line_error(result, f"cannot open the message store {not_a_db}")
    assert not_a_db.read_text() == "my notes\n" * 100
    unchanged()


def test_a_corrupt_deployment_manifest_is_one_line(
        suite: Suite, env: dict[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "deployments" / "ethereum_chaina.json"
    broken.parent.mkdir()
    broken.write_text('{"contracts": {"coordinator": ')
    monkeypatch.setenv("ACCORD_STATE_DIR", str(tmp_path))
    assert_one_line_error(run_cli("workflow", "status", "1", "--network", "chaina", "--rpc",
                                  env["rpc"]), f"deployment manifest {broken} is not valid JSON")
    assert broken.read_text() == '{"contracts": {"coordinator": '


def test_an_unforeseen_failure_is_still_one_line_with_the_traceback_saved(
        env: dict[str, str], suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    import accord.workflows.status as status

    def boom(*_: object, **__: object) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(status, "snapshot", boom)
    result = run_cli("workflow", "status", "1", "--network", "chaina", "--rpc", env["rpc"])
    assert_one_line_error(result, "unexpected KeyError: 'surprise'")
    saved = suite.root / "logs" / "last-error.log"
    assert "Traceback" in saved.read_text() and "surprise" in saved.read_text()
    saved.unlink()
