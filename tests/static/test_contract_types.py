"""accord/chain/types.py mirrors the contracts: every enum's members (names, order) against
the interface sources and the compiled ABIs, every struct's and multi-value view's fields
(names, order, ABI types) against the ABIs and the sources. No chain starts; needs compiled
contracts (``ape compile``)."""

from __future__ import annotations

import re
import typing
from enum import IntEnum
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from accord.chain import types as ct
from accord.chain.artifacts import artifact

ROOT = Path(__file__).resolve().parents[2]
#: The contracts a deployment creates: every enum in their ABIs must be mirrored.
DEPLOYABLES = ("WorkflowCoordinator", "WorkflowCoordinatorExtension", "RemoteStepRouter",
               "AccordGateway", "AccordGasPaymaster", "AgentRoles", "IdentityRegistry",
               "ReputationRegistry", "ValidationRegistry")
#: Structs only abi.encode'd into router payloads: in no ABI, checked against the source only.
PAYLOAD_ONLY = {ct.Task, ct.Result}


# ---------------------------------------------------------------- Solidity sources
class Sources(NamedTuple):
    enums: dict[str, list[str]]                   # "IFoo.Bar" -> member names
    structs: dict[str, list[tuple[str, str]]]     # "IFoo.Baz" -> [(solidity type, name)]


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def parse_sources(folder: Path) -> Sources:
    """Enum and struct bodies of every interface/contract/library under ``folder``."""
    enums: dict[str, list[str]] = {}
    structs: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(folder.glob("*.sol")):
        text = _strip_comments(path.read_text())
        owners = [(m.start(), m.group(1)) for m in
                  re.finditer(r"\b(?:interface|contract|library)\s+(\w+)", text)]

        def owner(pos: int, owners: list[tuple[int, str]] = owners) -> str:
            return [name for start, name in owners if start < pos][-1]

        for m in re.finditer(r"\benum\s+(\w+)\s*\{([^}]*)\}", text):
            enums[f"{owner(m.start())}.{m.group(1)}"] = [
                v.strip() for v in m.group(2).split(",") if v.strip()]
        for m in re.finditer(r"\bstruct\s+(\w+)\s*\{([^}]*)\}", text):
            fields = []
            for decl in m.group(2).split(";"):
                parts = decl.split()
                if parts:
                    fields.append((parts[0], parts[-1]))
            structs[f"{owner(m.start())}.{m.group(1)}"] = fields
    return Sources(enums, structs)


def sol_to_abi(sol_type: str, scope: str, src: Sources) -> str:
    """A Solidity field type as its ABI type (enums are uint8, structs tuples)."""
    base, arrays = re.match(r"([\w.]+)((?:\[\d*\])*)$", sol_type).groups()  # type: ignore[union-attr]
    qualified = base if "." in base else f"{scope}.{base}"
    if qualified in src.enums:
        out = "uint8"
    elif qualified in src.structs:
        out = "(" + ",".join(sol_to_abi(t, scope, src) for t, _ in src.structs[qualified]) + ")"
    else:
        out = {"uint": "uint256", "int": "int256"}.get(base, base)
    return out + arrays


def interface_return_names(fn: str) -> list[str]:
    """The names ``function fn`` gives its return values in interfaces/ (one declaration)."""
    found = []
    for path in sorted((ROOT / "interfaces").glob("*.sol")):
        text = _strip_comments(path.read_text())
        for m in re.finditer(rf"\bfunction\s+{fn}\s*\([^)]*\)[^;{{]*?returns\s*\(([^)]*)\)", text):
            found.append([decl.split()[-1] for decl in m.group(1).split(",")])
    assert len(found) == 1, f"function {fn} is declared {len(found)} times under interfaces/"
    return found[0]


# ---------------------------------------------------------------- ABIs
def _abi_type(component: dict[str, Any]) -> str:
    t = str(component["type"])
    if t.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in component["components"]) + ")" + t[5:]
    return t


def _walk(params: list[dict[str, Any]]) -> typing.Iterator[dict[str, Any]]:
    for p in params:
        yield p
        yield from _walk(p.get("components", []))


def _abi_params(name: str) -> typing.Iterator[dict[str, Any]]:
    for item in artifact(name).abi:
        yield from _walk(item.get("inputs", []) + item.get("outputs", []))


def abi_enums() -> dict[str, str]:
    """``enum X.Y`` internal types in the deployables' ABIs -> their ABI type."""
    return {p["internalType"][5:]: p["type"] for n in DEPLOYABLES for p in _abi_params(n)
            if str(p.get("internalType", "")).startswith("enum ")}


def abi_structs() -> dict[str, list[dict[str, Any]]]:
    """``struct X.Y`` internal types in the deployables' ABIs -> their components."""
    out: dict[str, list[dict[str, Any]]] = {}
    for n in DEPLOYABLES:
        for p in _abi_params(n):
            it = str(p.get("internalType", ""))
            if it.startswith("struct "):
                out[it[7:].removesuffix("[]")] = p["components"]
    return out


# ---------------------------------------------------------------- comparison
def _mirror_fields(cls: type) -> list[tuple[str, Any]]:
    hints = typing.get_type_hints(cls, include_extras=True)
    return [(f, hints[f]) for f in cls._fields]  # type: ignore[attr-defined]


def _solidity_ref(hint: Any) -> str | None:
    """What the ABI's internalType must say for a field of type ``hint`` (None: elementary)."""
    if isinstance(hint, type) and issubclass(hint, IntEnum):
        return "enum " + ct.ENUMS[hint]
    if typing.get_origin(hint) is tuple:
        return "struct " + ct.STRUCTS[typing.get_args(hint)[0]] + "[]"
    if isinstance(hint, type) and hint in ct.STRUCTS:
        return "struct " + ct.STRUCTS[hint]
    return None


def drift(cls: type, what: str, abi: list[dict[str, Any]]) -> list[str]:
    """Every difference between mirror ``cls`` and ABI parameters ``abi`` (``what`` names the
    Solidity side), one message per field."""
    name = cls.__name__
    mirror = _mirror_fields(cls)
    problems = []
    mine, theirs = [f for f, _ in mirror], [str(c["name"]) for c in abi]
    if mine != theirs:
        problems.append(f"{name} fields {mine} != {what} fields {theirs}")
    for (field, hint), comp in zip(mirror, abi, strict=False):
        want, got = _abi_type(comp), ct.abi_type_of(hint)
        if field == comp["name"] and want != got:
            problems.append(f"{name}.{field} is {got} in the mirror but {want} in {what}")
        ref = _solidity_ref(hint)
        if ref is not None and field == comp["name"] and comp.get("internalType") != ref:
            problems.append(f"{name}.{field} mirrors '{ref}' but {what} has "
                            f"'{comp.get('internalType')}'")
    return problems


def source_drift(cls: type, solidity: str, src: Sources) -> list[str]:
    """As ``drift``, against the struct's body in the interface source."""
    scope = solidity.split(".")[0]
    fields = []
    for sol_type, field in src.structs[solidity]:
        base, arrays = re.match(r"([\w.]+)((?:\[\d*\])*)$", sol_type).groups()  # type: ignore[union-attr]
        qualified = base if "." in base else f"{scope}.{base}"
        kind = "enum" if qualified in src.enums else "struct" if qualified in src.structs else ""
        fields.append({"name": field, "type": sol_to_abi(sol_type, scope, src),
                       "internalType": f"{kind} {qualified}{arrays}" if kind else sol_type})
    return drift(cls, f"the source of struct {solidity}", fields)


@pytest.fixture(scope="module")
def src() -> Sources:
    sources = parse_sources(ROOT / "interfaces")
    assert sources.enums and sources.structs, "no enums or structs parsed from interfaces/"
    return sources


# ---------------------------------------------------------------- enums
def test_every_enum_the_deployables_expose_is_mirrored() -> None:
    missing = sorted(set(abi_enums()) - set(ct.ENUMS.values()))
    assert not missing, f"enums in the compiled ABIs with no mirror in accord/chain/types.py: {missing}"


@pytest.mark.parametrize("enum_cls", list(ct.ENUMS), ids=lambda c: c.__name__)
def test_enum_members_match_the_solidity_source(enum_cls: type[ct.SolidityEnum],
                                                src: Sources) -> None:
    solidity = ct.ENUMS[enum_cls]
    assert solidity in src.enums, f"{enum_cls.__name__}: no 'enum {solidity}' under interfaces/"
    names = src.enums[solidity]
    labels = list(enum_cls.labels())
    for i, (mine, theirs) in enumerate(zip(labels, names, strict=False)):
        assert mine == theirs, (f"{enum_cls.__name__} member {i} is '{mine}' but enum "
                                f"{solidity} has '{theirs}' there")
    assert len(labels) == len(names), (f"{enum_cls.__name__} has {len(labels)} members, enum "
                                       f"{solidity} has {len(names)}: {names}")
    assert [m.value for m in enum_cls] == list(range(len(names))), \
        f"{enum_cls.__name__} values are not 0..{len(names) - 1} in order"


@pytest.mark.parametrize("enum_cls", list(ct.ENUMS), ids=lambda c: c.__name__)
def test_enum_is_a_uint8_in_the_abi(enum_cls: type[ct.SolidityEnum]) -> None:
    solidity = ct.ENUMS[enum_cls]
    found = abi_enums()
    assert solidity in found, f"{enum_cls.__name__}: no deployable's ABI uses 'enum {solidity}'"
    assert found[solidity] == "uint8", f"enum {solidity} is {found[solidity]} in the ABI"


# ---------------------------------------------------------------- structs and views
@pytest.mark.parametrize("struct_cls", list(ct.STRUCTS), ids=lambda c: c.__name__)
def test_struct_fields_match_the_solidity_source(struct_cls: type, src: Sources) -> None:
    solidity = ct.STRUCTS[struct_cls]
    assert solidity in src.structs, f"{struct_cls.__name__}: no 'struct {solidity}' under interfaces/"
    problems = source_drift(struct_cls, solidity, src)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("struct_cls", [c for c in ct.STRUCTS if c not in PAYLOAD_ONLY],
                         ids=lambda c: c.__name__)
def test_struct_fields_match_the_abi(struct_cls: type) -> None:
    solidity = ct.STRUCTS[struct_cls]
    structs = abi_structs()
    assert solidity in structs, f"{struct_cls.__name__}: no deployable's ABI uses 'struct {solidity}'"
    problems = drift(struct_cls, f"the ABI of struct {solidity}", structs[solidity])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("view_cls", list(ct.VIEWS), ids=lambda c: c.__name__)
def test_view_outputs_match_the_abi(view_cls: type) -> None:
    contract, fn = ct.VIEWS[view_cls]
    items = [i for i in artifact(contract).abi if i.get("type") == "function" and i["name"] == fn]
    assert len(items) == 1, f"{view_cls.__name__}: {contract}.{fn} found {len(items)} times in the ABI"
    outputs = [dict(o) for o in items[0]["outputs"]]
    if not all(o["name"] for o in outputs):  # the contract left them unnamed: the interface's
        names = interface_return_names(fn)
        assert len(names) == len(outputs), f"{view_cls.__name__}: {fn} returns {names} in interfaces/"
        for o, n in zip(outputs, names, strict=True):
            o["name"] = o["name"] or n
    problems = drift(view_cls, f"the outputs of {contract}.{fn}", outputs)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- the check itself
class _DriftedLease(NamedTuple):
    agentId: ct.Uint256
    operator: ct.Address
    leaseEnd: ct.Uint32     # uint64 on chain
    attempts: ct.Uint8      # "attempt" on chain


def test_drift_names_the_type_and_the_field() -> None:
    outputs = next(i for i in artifact("WorkflowCoordinator").abi
                   if i.get("name") == "lease")["outputs"]
    problems = drift(_DriftedLease, "the outputs of WorkflowCoordinator.lease", outputs)
    assert any("_DriftedLease.leaseEnd is uint32 in the mirror but uint64" in p
               for p in problems), problems
    assert any("_DriftedLease fields" in p and "'attempts'" in p and "'attempt'" in p
               for p in problems), problems


def test_source_parser_reads_enums_and_nested_structs(src: Sources) -> None:
    assert src.enums["IWorkflowCoordinatorTypes.StepState"][-1] == "Dispatched"
    steps = dict((n, t) for t, n in src.structs["IWorkflowCoordinatorTypes.WorkflowDefinition"])
    assert steps["steps"] == "StepSpec[]"
    assert sol_to_abi("StepSpec[]", "IWorkflowCoordinatorTypes", src) == \
        ct.abi_type(ct.StepSpec) + "[]"


def test_mirror_round_trips_a_decoded_tuple() -> None:
    raw = (b"\x01" * 32, "0x" + "ab" * 20, 2, 7, 1, 0, 0, 0)
    info = ct.RunInfo.from_abi(raw)
    assert info.state is ct.RunState.PAUSED and info.state.label == "Paused"
    assert info == raw and info.escrow == 7
    assert ct.StepState.from_label("Dispatched") is ct.StepState.DISPATCHED
    with pytest.raises(ValueError, match="known: Blocked, Ready"):
        ct.StepState.from_label("Waiting")
