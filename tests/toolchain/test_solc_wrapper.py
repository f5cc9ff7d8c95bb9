"""The solc-js wrapper speaks native solc's command line, as py-solc-x, ape and forge need."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _pinned_version() -> str:
    return str(yaml.safe_load((ROOT / "ape-config.yaml").read_text())["solidity"]["version"])


SOLC = ROOT / ".solcx" / f"solc-v{_pinned_version()}"


def test_wrapper_reports_the_pinned_version_in_native_format() -> None:
    out = subprocess.run([str(SOLC), "--version"], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[0] == "solc, the solidity compiler commandline interface"
    assert lines[1].startswith(f"Version: {_pinned_version()}+commit.")


def test_py_solc_x_finds_the_wrapper_without_downloading() -> None:
    import solcx

    versions = [str(v) for v in solcx.get_installed_solc_versions()]
    assert _pinned_version() in versions


def test_wrapper_compiles_a_contract_importing_openzeppelin_via_include_path(tmp_path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "Token.sol").write_text(
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.30;\n"
        'import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";\n'
        'contract Token is ERC20 { constructor() ERC20("T", "T") { _mint(msg.sender, 1); } }\n'
    )
    std_input = {
        "language": "Solidity",
        "sources": {"Token.sol": {"urls": ["Token.sol"]}},
        "settings": {
            "evmVersion": "prague",
            "optimizer": {"enabled": True, "runs": 200},
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
        },
    }
    out = subprocess.run(
        [str(SOLC), "--standard-json", "--base-path", str(src),
         "--include-path", str(ROOT / "node_modules"), "--allow-paths", str(tmp_path)],
        input=json.dumps(std_input), capture_output=True, text=True, check=True,
    )
    result = json.loads(out.stdout)
    errors = [e for e in result.get("errors", []) if e["severity"] == "error"]
    assert errors == []
    token = result["contracts"]["Token.sol"]["Token"]
    assert any(item.get("name") == "totalSupply" for item in token["abi"])
    assert len(token["evm"]["bytecode"]["object"]) > 1000


def test_wrapper_refuses_reads_outside_the_allowed_paths(tmp_path) -> None:
    secret = tmp_path / "outside" / "Secret.sol"
    secret.parent.mkdir()
    secret.write_text("// SPDX-License-Identifier: MIT\npragma solidity 0.8.30;\ncontract S {}\n")
    base = tmp_path / "base"
    base.mkdir()
    (base / "A.sol").write_text(
        f'// SPDX-License-Identifier: MIT\npragma solidity 0.8.30;\nimport "{secret}";\n'
    )
    std_input = {"language": "Solidity", "sources": {"A.sol": {"urls": ["A.sol"]}},
                 "settings": {"outputSelection": {"*": {"*": ["abi"]}}}}
    out = subprocess.run([str(SOLC), "--standard-json", "--base-path", str(base)],
                         input=json.dumps(std_input), capture_output=True, text=True)
    result = json.loads(out.stdout)
    assert any("not found" in e["message"].lower() or "Secret" in e["message"]
               for e in result["errors"] if e["severity"] == "error")


def test_wrapper_without_node_prints_one_line_and_fails(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PATH"}
    env["PATH"] = "/usr/bin/nonexistent"
    out = subprocess.run(["/bin/sh", str(SOLC), "--version"], capture_output=True, text=True,
                         env=env)
    assert out.returncode != 0
    assert out.stderr.count("\n") == 1
    assert "Node.js is not installed" in out.stderr


def test_wrapper_rejects_unknown_options_with_one_line() -> None:
    out = subprocess.run([str(SOLC), "--bin", "x.sol"], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0
    assert "unsupported option" in out.stderr
