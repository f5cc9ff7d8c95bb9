"""``agents.yaml``: the agents one ``accord agents run`` process serves.

```yaml
store: .accord/results            # optional: a directory (agent processes of one machine share
                                  #   it) or http://host:port, a result service other machines
                                  #   read ('accord results serve'; token in ACCORD_RESULTS_TOKEN)
agents:
  - name: analyst-1
    key_env: ANALYST1_KEY         # env var holding the operator key, or on devnets:
    dev_account: 2                # an anvil dev account index
    agent_id: 7                   # optional: an existing ERC-8004 identity
    max_concurrent: 2             # optional: steps held at once (default 8; 1 for a handler
                                  #   that must run alone; each claim locks the workflow's
                                  #   stake, so bond max_concurrent x stake to hold them all)
    batch: 8                      # optional: claims, and submits, per transaction (default 8,
                                  #   at most 16; 1 sends one transaction per call)
    timeout: 120                  # optional: handler timeout, seconds
    roles:                        # role name -> handler import path
      analysis: accord.agents.demo_handlers:analyze
    validates: accord.agents.demo_handlers:review   # optional validator handler
    validator_role: validator     # optional (default: the coordinator's global role)
    description: Reads filings    # optional: for its ERC-8004 registration file, which
    a2a: https://a.example/card   #   onboarding publishes to the store and sets as its agent
    mcp: https://a.example/mcp    #   URI (unless agent_uri names one); both optional
```

Every handler is imported when the file is loaded, before anything touches a chain, so a
misspelt handler costs no transaction. Handler modules are found as ``python -m`` finds them:
the current directory first, then the agents file's directory, then ``sys.path``
(``PYTHONPATH`` and installed packages); see :func:`accord.agents.handlers.load_handler`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from accord.agents.handlers import handler_search_path, load_handler
from accord.errors import ConfigError
from accord.workflows.compiler import WorkflowFileError, _Ctx, read_yaml_text

AGENT_KEYS = {"name", "key_env", "dev_account", "agent_id", "max_concurrent", "batch",
              "timeout", "roles", "validates", "validator_role", "agent_uri", "description",
              "a2a", "mcp"}
MAX_BATCH = 16  # 16 submits at 1.5M gas each stay under a 30M block


@dataclass
class AgentConfig:
    name: str
    line: int
    key_env: str | None = None
    dev_account: int | None = None
    agent_id: int | None = None
    max_concurrent: int = 8
    batch: int = 8
    timeout: float | None = None
    roles: dict[str, str] = field(default_factory=dict)
    validates: str | None = None
    validator_role: str | None = None
    agent_uri: str = ""  # set: used as is; empty: onboarding publishes a card (card.py)
    description: str = ""
    a2a: str | None = None  # the agent's A2A endpoint, named in its card
    mcp: str | None = None  # its MCP endpoint
    lines: dict[str, int] = field(default_factory=dict)  # role (or 'validates') -> line
    # the imported handlers (import_handlers): role -> callable, and the validator's
    loaded: dict[str, Callable[..., Any]] = field(default_factory=dict)
    loaded_validator: Callable[..., Any] | None = None


@dataclass
class AgentsFile:
    path: str
    agents: list[AgentConfig]
    store: str | None = None


def load_agents(path: str | Path, *, import_handlers: bool = True) -> AgentsFile:
    """Parse an agents file and (unless told not to) import every handler it names."""
    cfg = _parse(path)
    if import_handlers:
        load_handlers(cfg)
    return cfg


def load_handlers(cfg: AgentsFile) -> None:
    """Import every handler of ``cfg`` into its :class:`AgentConfig` (``loaded``,
    ``loaded_validator``); the first that cannot be imported raises a one-line
    :class:`ConfigError` naming the file, line, agent, role and the missing module or
    attribute."""
    search = handler_search_path(cfg.path)
    for a in cfg.agents:
        named = [(role, path) for role, path in a.roles.items()]
        if a.validates:
            named.append(("validates", a.validates))
        for role, path in named:
            try:
                fn = load_handler(path, search=search)
            except ConfigError as exc:
                what = "its validator" if role == "validates" else f"role '{role}'"
                raise ConfigError(f"{cfg.path}:{a.lines.get(role, a.line)}: agent '{a.name}', "
                                  f"{what}: {exc}") from None
            if role == "validates":
                a.loaded_validator = fn
            else:
                a.loaded[role] = fn


def _parse(path: str | Path) -> AgentsFile:
    text = read_yaml_text(path, "agents file")
    c = _Ctx(str(path))
    try:
        root = yaml.compose(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise WorkflowFileError(f"{path}:{line}: invalid YAML: {exc.problem or exc}") from None
    if root is None:
        raise WorkflowFileError(f"{path}:1: the file is empty; it needs an 'agents:' list")
    top = c.mapping(root, "the agents file", {"agents", "store"})
    if "agents" not in top or not isinstance(top["agents"][1], yaml.SequenceNode) \
            or not top["agents"][1].value:
        raise c.err(root, "'agents' must be a non-empty list")
    out: list[AgentConfig] = []
    names: set[str] = set()
    for node in top["agents"][1].value:
        m, name = c.named(node, "an agent", AGENT_KEYS, names)
        names.add(name)
        a = AgentConfig(name=name, line=node.start_mark.line + 1)
        what = f"agent '{name}'"
        if ("key_env" in m) == ("dev_account" in m):
            raise c.err(node, f"{what} needs exactly one of 'key_env' (an environment variable "
                              "holding its key) or 'dev_account' (devnets)")
        if "key_env" in m:
            a.key_env = c.text(m["key_env"][1], f"key_env of {what}")
        if "dev_account" in m:
            a.dev_account = c.integer(m["dev_account"][1], f"dev_account of {what}", 0, 10_000)
        if "agent_id" in m:
            a.agent_id = c.integer(m["agent_id"][1], f"agent_id of {what}", 0, 2**96 - 1)
        if "max_concurrent" in m:
            a.max_concurrent = c.integer(m["max_concurrent"][1], f"max_concurrent of {what}",
                                         1, 1024)
        if "batch" in m:
            a.batch = c.integer(m["batch"][1], f"batch of {what}", 1, MAX_BATCH)
        if "timeout" in m:
            a.timeout = float(c.integer(m["timeout"][1], f"timeout of {what}", 1, 10**7))
        if "agent_uri" in m:
            a.agent_uri = c.text(m["agent_uri"][1], f"agent_uri of {what}")
        if "description" in m:
            a.description = c.text(m["description"][1], f"description of {what}")
        for kind in ("a2a", "mcp"):
            if kind in m:
                url = c.text(m[kind][1], f"{kind} of {what}")
                if not url.startswith(("http://", "https://")):
                    raise c.err(m[kind][1], f"{kind} of {what} must be an http(s):// URL")
                setattr(a, kind, url)
        if "roles" in m:
            rn = m["roles"][1]
            if not isinstance(rn, yaml.MappingNode):
                raise c.err(rn, f"roles of {what} must map role names to handlers "
                                "('analysis: module:function')")
            for k, v in rn.value:
                role = c.text(k, f"a role of {what}")
                a.roles[role] = _handler_path(c, v, what)
                a.lines[role] = v.start_mark.line + 1
        if "validates" in m:
            a.validates = _handler_path(c, m["validates"][1], what)
            a.lines["validates"] = m["validates"][1].start_mark.line + 1
        if "validator_role" in m:
            a.validator_role = c.text(m["validator_role"][1], f"validator_role of {what}")
        if not a.roles and not a.validates:
            raise c.err(node, f"{what} has no 'roles' and no 'validates': it would do nothing")
        out.append(a)
    store = c.text(top["store"][1], "store") if "store" in top else None
    return AgentsFile(str(path), out, store)


def _handler_path(c: _Ctx, node: Any, what: str) -> str:
    text = c.text(node, f"a handler of {what}")
    module, sep, attr = text.partition(":")
    if not sep or not module or not attr:
        raise c.err(node, f"handler '{text}' of {what} must be an import path "
                          "'module:function'")
    return text
