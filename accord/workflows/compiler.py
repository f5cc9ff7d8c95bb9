"""Workflow definitions in YAML, compiled to the coordinator's ``WorkflowDefinition``.

```yaml
workflow: research              # a name, for people
validator_role: validator       # optional (default: the coordinator's global role)
stake: "0.001 ether"            # bond locked per claim and per vote until that attempt settles,
                                #   slashed when an executor's lease lapses (default 0.001 ether;
                                #   `slash` is the older name of this key)
validation_timeout: 300         # seconds validators have after a submit (default: 4 x the lease)
on_validation_timeout: retry    # retry (a new attempt), accept (Done) or fail (default: retry)
defaults: {lease: 60, attempts: 3, backoff: {initial: 5, multiplier: 2, cap: 60}}
steps:
  - name: research
    role: research
    reward: "0.01 ether"        # or wei as an int
    quorum: 1                   # validator approvals needed (0 = done on submit)
  - name: analyze-a
    role: analysis
    depends_on: [research]
  - name: report
    role: report
    depends_on: [analyze-a, analyze-b, analyze-c]
    join: 2                     # "all" (default) or k of the dependencies
    compensation: undo-report   # a step with no dependencies and no dependents
    decision: false             # true: its result selects which direct dependents run (the
                                #   handler returns StepOutput(data, branches=("name", ...)));
                                #   unselected ones are Skipped, and so is every step whose
                                #   join can then no longer be met: after a decision, merge
                                #   the branches with join: 1, not "all"
    chain: chainb               # default: the home chain; another chain: a remote step
```

Steps may be listed in any order; they are sorted so that every dependency comes first (the
coordinator requires it). Every error names the file and line: ``workflow.yaml:12: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from eth_abi import encode as abi_encode
from eth_utils import keccak

from accord.chain.types import StepSpec, ValidationTimeout, WorkflowDefinition, abi_type
from accord.errors import ConfigError
from accord.paths import devnet_specs
from accord.settings import role_id

NO_STEP = 255
MAX_STEPS = 64
UNITS = {"wei": 0, "gwei": 9, "ether": 18, "eth": 18}

STEP_KEYS = {"name", "role", "depends_on", "join", "lease", "attempts", "backoff", "quorum",
             "reward", "compensation", "decision", "chain"}
DEFAULT_KEYS = STEP_KEYS - {"name", "role", "depends_on", "compensation", "decision", "join"}
TOP_KEYS = {"workflow", "description", "validator_role", "slash", "stake", "validation_timeout",
            "on_validation_timeout", "defaults", "steps"}
#: Stake locked per claim and per vote when a workflow names none: abandoning a claim costs
#: something by default (a role's minimum bond backs several concurrent claims).
DEFAULT_STAKE = 10**15
#: enum ValidationTimeout, by YAML name (retry, accept, fail).
ON_VALIDATION_TIMEOUT = {m.name.lower(): m for m in ValidationTimeout}
BACKOFF_KEYS = {"initial", "multiplier", "cap"}


class WorkflowFileError(ConfigError):
    """A workflow YAML file is wrong at a given line."""


def parse_amount(value: Any, what: str = "amount") -> int:
    """Wei from an int or a string like ``"0.01 ether"``, ``"0.01ether"``, ``"5 gwei"``,
    ``"1000"`` (the YAML's rewards and budgets and every CLI amount read the same)."""
    if isinstance(value, bool):
        raise ConfigError(f"{what} must be wei or a string like '0.01 ether', not {value}")
    if isinstance(value, int):
        if value < 0:
            raise ConfigError(f"{what} must not be negative")
        return value
    text = str(value).strip().lower()
    parts = re.sub(r"^([0-9.]+)([a-z]+)$", r"\1 \2", text).split()
    try:
        if len(parts) == 1:
            amount, unit = Decimal(parts[0]), "wei"
        elif len(parts) == 2 and parts[1] in UNITS:
            amount, unit = Decimal(parts[0]), parts[1]
        else:
            raise InvalidOperation
    except InvalidOperation:
        raise ConfigError(f"{what} '{value}' is not an amount; write wei or e.g. '0.01 ether' "
                          f"(units: {', '.join(UNITS)})") from None
    wei = amount * (Decimal(10) ** UNITS[unit])
    if wei < 0 or wei != wei.to_integral_value():
        raise ConfigError(f"{what} '{value}' is not a whole, non-negative number of wei")
    return int(wei)


@dataclass
class StepDef:
    name: str
    role: str
    line: int
    depends_on: list[str] = field(default_factory=list)
    join: int = 0
    lease: int = 60
    attempts: int = 3
    backoff_initial: int = 5
    backoff_multiplier: int = 2
    backoff_cap: int = 60
    quorum: int = 0
    reward: int = 0
    compensation: str | None = None
    decision: bool = False
    chain: str | None = None


@dataclass
class Workflow:
    name: str
    path: str
    steps: list[StepDef]
    validator_role: str | None = None
    slash: int = DEFAULT_STAKE
    validation_timeout: int = 0
    on_validation_timeout: str = "retry"

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.steps]

    def definition(self, chain_id: int) -> WorkflowDefinition:
        """The ``WorkflowDefinition`` for ``registerDefinition`` on ``chain_id`` (steps with a
        ``chain`` of their own run there: remote steps)."""
        index = {s.name: i for i, s in enumerate(self.steps)}
        steps = []
        for s in self.steps:
            deps = 0
            for d in s.depends_on:
                deps |= 1 << index[d]
            steps.append(StepSpec(
                role=role_id(s.role), deps=deps, join=s.join, leaseSeconds=s.lease,
                maxAttempts=s.attempts, backoffInitial=s.backoff_initial,
                backoffMultiplier=s.backoff_multiplier, backoffCap=s.backoff_cap,
                quorum=s.quorum, reward=s.reward,
                compensation=index[s.compensation] if s.compensation else NO_STEP,
                decision=s.decision,
                chainId=chain_id if s.chain is None else (chain_id_of(s.chain) or chain_id)))
        vrole = role_id(self.validator_role) if self.validator_role else b"\x00" * 32
        return WorkflowDefinition(validatorRole=vrole, slashAmount=self.slash,
                                  validationSeconds=self.validation_timeout,
                                  onValidationTimeout=ON_VALIDATION_TIMEOUT[
                                      self.on_validation_timeout],
                                  steps=tuple(steps))

    def definition_id(self, chain_id: int) -> bytes:
        return definition_id(self.definition(chain_id))

    def total_reward(self) -> int:
        return sum(s.reward for s in self.steps)


def definition_id(definition: tuple[Any, ...]) -> bytes:
    """keccak256(abi.encode(definition)), as the coordinator computes it."""
    return bytes(keccak(abi_encode([abi_type(WorkflowDefinition)], [definition])))


# ---------------------------------------------------------------------- parsing
class _Ctx:
    def __init__(self, path: str) -> None:
        self.path = path

    def err(self, node: yaml.Node | None, msg: str) -> WorkflowFileError:
        line = node.start_mark.line + 1 if node is not None else 1
        return WorkflowFileError(f"{self.path}:{line}: {msg}")

    def named(self, node: yaml.Node, what: str, allowed: set[str], seen: Container[str]
              ) -> tuple[dict[str, tuple[yaml.Node, yaml.Node]], str]:
        """A list item that is a mapping with a ``name`` not in ``seen`` (``what``: "a step",
        "an agent"); returns the mapping and the name."""
        m = self.mapping(node, what, allowed)
        if "name" not in m:
            raise self.err(node, f"{what} needs a 'name'")
        name = self.text(m["name"][1], f"{what} name")
        if name in seen:
            noun = what.split(" ", 1)[1]
            raise self.err(m["name"][1], f"duplicate {noun} name '{name}'")
        return m, name

    def mapping(self, node: yaml.Node, what: str, allowed: set[str]
                ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.err(node, f"{what} must be a mapping")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for k, v in node.value:
            key = str(k.value)
            if key not in allowed:
                raise self.err(k, f"unknown key '{key}' in {what}; known keys: "
                                  f"{', '.join(sorted(allowed))}")
            if key in out:
                raise self.err(k, f"duplicate key '{key}' in {what}")
            out[key] = (k, v)
        return out

    def scalar(self, node: yaml.Node, what: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.err(node, f"{what} must be a single value")
        return yaml.safe_load(yaml.serialize(node))

    def integer(self, node: yaml.Node, what: str, lo: int, hi: int) -> int:
        value = self.scalar(node, what)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.err(node, f"{what} must be an integer in {lo}..{hi}, not {value!r}")
        return int(value)

    def text(self, node: yaml.Node, what: str) -> str:
        value = self.scalar(node, what)
        if not isinstance(value, str) or not value:
            raise self.err(node, f"{what} must be a non-empty string, not {value!r}")
        return value

    def amount(self, node: yaml.Node, what: str, hi: int) -> int:
        try:
            wei = parse_amount(self.scalar(node, what), what)
        except ConfigError as exc:
            raise self.err(node, str(exc)) from None
        if wei > hi:
            raise self.err(node, f"{what} {wei} wei is above the maximum {hi}")
        return wei


def read_yaml_text(path: str | Path, what: str) -> str:
    """The text of a YAML input file (``what``: "workflow file", "agents file"), or a
    one-line WorkflowFileError that says why it cannot be read."""
    p = Path(path)
    try:
        return p.read_text()
    except OSError as exc:
        raise WorkflowFileError(f"cannot read {what} {p}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise WorkflowFileError(f"{p} is not UTF-8 text (byte {exc.start}); a {what} is "
                                "YAML: check you passed the right file") from None


def load_workflow(path: str | Path, *, known_roles: set[str] | None = None,
                  home_chain: str | None = None) -> Workflow:
    """Read and check a workflow file (see the module docs for the format)."""
    text = read_yaml_text(path, "workflow file")
    return parse_workflow(text, str(path), known_roles=known_roles, home_chain=home_chain)


def parse_workflow(text: str, path: str = "workflow.yaml", *,
                   known_roles: set[str] | None = None,
                   home_chain: str | None = None) -> Workflow:
    c = _Ctx(path)
    try:
        root = yaml.compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise WorkflowFileError(f"{path}:{line}: invalid YAML: {exc.problem or exc}") from None
    if root is None:
        raise WorkflowFileError(f"{path}:1: the file is empty; it needs a 'steps:' list")
    top = c.mapping(root, "the workflow file", TOP_KEYS)
    if "steps" not in top:
        raise c.err(root, "missing 'steps:' (a list of steps)")
    defaults = StepDef(name="", role="", line=0)
    if "defaults" in top:
        _apply_common(c, defaults, c.mapping(top["defaults"][1], "defaults", DEFAULT_KEYS),
                      "defaults")
    steps_node = top["steps"][1]
    if not isinstance(steps_node, yaml.SequenceNode) or not steps_node.value:
        raise c.err(steps_node, "'steps' must be a non-empty list")
    if len(steps_node.value) > MAX_STEPS:
        raise c.err(steps_node, f"{len(steps_node.value)} steps; the coordinator allows at "
                                f"most {MAX_STEPS} (split the workflow)")
    steps: list[StepDef] = []
    nodes: dict[str, dict[str, tuple[yaml.Node, yaml.Node]]] = {}
    for node in steps_node.value:
        m, name = c.named(node, "a step", STEP_KEYS, nodes)
        what = f"step '{name}'"
        if "role" not in m:
            raise c.err(node, f"{what} needs a 'role'")
        role = c.text(m["role"][1], f"the role of {what}")
        if known_roles is not None and role not in known_roles and not (
                role.startswith("0x") and len(role) == 66):
            raise c.err(m["role"][1], f"{what} uses unknown role '{role}'; configured roles: "
                                      f"{', '.join(sorted(known_roles)) or 'none'} (accord.roles "
                                      "in ape-config.yaml)")
        s = StepDef(**{**defaults.__dict__, "name": name, "role": role,
                       "line": node.start_mark.line + 1, "depends_on": []})
        _apply_common(c, s, m, what)
        if "depends_on" in m:
            dn = m["depends_on"][1]
            if isinstance(dn, yaml.ScalarNode):
                s.depends_on = [c.text(dn, f"depends_on of {what}")]
            elif isinstance(dn, yaml.SequenceNode):
                s.depends_on = [c.text(d, f"depends_on of {what}") for d in dn.value]
            else:
                raise c.err(dn, f"depends_on of {what} must be a step name or a list of names")
            if len(set(s.depends_on)) != len(s.depends_on):
                raise c.err(dn, f"{what} lists a dependency twice")
        if "join" in m:
            jn = m["join"][1]
            value = c.scalar(jn, f"join of {what}")
            if value == "all":
                s.join = 0
            elif isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                s.join = value
            else:
                raise c.err(jn, f"join of {what} must be 'all' or a count k >= 1, not {value!r}")
        if "decision" in m:
            value = c.scalar(m["decision"][1], f"decision of {what}")
            if not isinstance(value, bool):
                raise c.err(m["decision"][1], f"decision of {what} must be true or false")
            s.decision = value
        if "compensation" in m:
            s.compensation = c.text(m["compensation"][1], f"compensation of {what}")
        if s.chain is not None and chain_id_of(s.chain) is None:
            chains = ", ".join(sorted(devnet_specs()))
            raise c.err(m["chain"][1], f"{what} runs on unknown chain '{s.chain}'; use a chain "
                                       f"of ape-config.yaml ({chains}) or a numeric chain id")
        nodes[name] = m
        steps.append(s)
    known = [s.name for s in steps]
    for s in steps:
        for d in s.depends_on:
            if d not in nodes:
                raise c.err(nodes[s.name]["depends_on"][1],
                            f"step '{s.name}' depends on unknown step '{d}'; known steps: "
                            f"{', '.join(known)}")
            if d == s.name:
                raise c.err(nodes[s.name]["depends_on"][1], f"step '{s.name}' depends on itself")
        if s.join > len(s.depends_on):
            raise c.err(nodes[s.name]["join"][1], f"step '{s.name}' joins {s.join} of "
                                                  f"{len(s.depends_on)} dependencies")
        if s.compensation is not None and s.compensation not in nodes:
            raise c.err(nodes[s.name]["compensation"][1],
                        f"step '{s.name}' names unknown compensation step '{s.compensation}'; "
                        f"known steps: {', '.join(known)}")
    ordered = _topo(c, steps, nodes)
    workflow = Workflow(name=str(c.scalar(top["workflow"][1], "workflow")) if "workflow" in top
                        else Path(path).stem, path=path, steps=ordered)
    if "validator_role" in top:
        workflow.validator_role = c.text(top["validator_role"][1], "validator_role")
    if "slash" in top and "stake" in top:
        raise c.err(top["slash"][0], "'slash' and 'stake' are the same setting; keep 'stake'")
    for key in ("stake", "slash"):
        if key in top:
            workflow.slash = c.amount(top[key][1], key, 2**128 - 1)
    if "validation_timeout" in top:
        workflow.validation_timeout = c.integer(top["validation_timeout"][1],
                                                "validation_timeout (seconds)", 0, 2**32 - 1)
    if "on_validation_timeout" in top:
        node = top["on_validation_timeout"][1]
        value = c.scalar(node, "on_validation_timeout")
        if value not in ON_VALIDATION_TIMEOUT:
            raise c.err(node, f"on_validation_timeout must be one of "
                              f"{', '.join(ON_VALIDATION_TIMEOUT)}, not {value!r}")
        workflow.on_validation_timeout = str(value)
    _check_compensations(c, workflow, nodes)
    return workflow


def _apply_common(c: _Ctx, s: StepDef, m: dict[str, tuple[yaml.Node, yaml.Node]],
                  what: str) -> None:
    if "lease" in m:
        s.lease = c.integer(m["lease"][1], f"lease of {what} (seconds)", 1, 2**32 - 1)
    if "attempts" in m:
        s.attempts = c.integer(m["attempts"][1], f"attempts of {what}", 1, 255)
    if "quorum" in m:
        s.quorum = c.integer(m["quorum"][1], f"quorum of {what}", 0, 255)
    if "reward" in m:
        s.reward = c.amount(m["reward"][1], f"reward of {what}", 2**96 - 1)
    if "chain" in m:
        s.chain = c.text(m["chain"][1], f"chain of {what}")
    if "backoff" in m:
        bn = m["backoff"][1]
        if isinstance(bn, yaml.ScalarNode):
            s.backoff_initial = c.integer(bn, f"backoff of {what} (seconds)", 0, 2**32 - 1)
            s.backoff_cap = max(s.backoff_cap, s.backoff_initial)
        else:
            b = c.mapping(bn, f"backoff of {what}", BACKOFF_KEYS)
            if "initial" in b:
                s.backoff_initial = c.integer(b["initial"][1], "backoff initial", 0, 2**32 - 1)
            if "multiplier" in b:
                s.backoff_multiplier = c.integer(b["multiplier"][1], "backoff multiplier", 1,
                                                 255)
            if "cap" in b:
                s.backoff_cap = c.integer(b["cap"][1], "backoff cap", 0, 2**32 - 1)
            if s.backoff_cap < s.backoff_initial:
                raise c.err(bn, f"backoff cap {s.backoff_cap} of {what} is below its initial "
                                f"delay {s.backoff_initial}")


def _topo(c: _Ctx, steps: list[StepDef], nodes: dict[str, Any]) -> list[StepDef]:
    """Stable topological order (file order where dependencies allow)."""
    done: dict[str, StepDef] = {}
    remaining = list(steps)
    while remaining:
        progress = False
        for s in list(remaining):
            if all(d in done for d in s.depends_on):
                done[s.name] = s
                remaining.remove(s)
                progress = True
        if not progress:
            s = remaining[0]
            cycle = " -> ".join([s.name] + [d for d in s.depends_on if d not in done][:1])
            raise c.err(nodes[s.name]["depends_on"][1],
                        f"steps form a cycle ({cycle} -> ...); a workflow must be a DAG")
    return list(done.values())


def _check_compensations(c: _Ctx, w: Workflow, nodes: dict[str, Any]) -> None:
    dependents = {s.name for s in w.steps for _ in s.depends_on}
    has_dependents = {d for s in w.steps for d in s.depends_on}
    del dependents
    comps = {s.compensation for s in w.steps if s.compensation}
    for s in w.steps:
        if s.compensation is None:
            continue
        comp = next(x for x in w.steps if x.name == s.compensation)
        node = nodes[s.name]["compensation"][1]
        if comp.name == s.name or comp.depends_on or comp.name in has_dependents \
                or comp.decision or comp.compensation or s.name in comps:
            raise c.err(node, f"'{comp.name}' cannot compensate '{s.name}': a compensation step "
                              "has no dependencies or dependents, is not a decision and does "
                              "not itself have a compensation")


def chain_id_of(chain: str) -> int | None:
    """The chain id of a step's ``chain``: a named chain of ape-config.yaml or a number."""
    if chain.isdigit():
        return int(chain)
    spec = devnet_specs().get(chain)
    return spec.chain_id if spec else None


def known_roles_from_settings() -> set[str]:
    from accord import settings

    cfg = settings.load()
    return set(cfg.roles) | {cfg.validator_role}
