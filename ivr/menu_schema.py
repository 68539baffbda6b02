"""The menu tree as data: loading and validating `ivr/menus/*.yaml`.

A bad file stops start-up with `MenuError` naming the file, the node and what is
wrong: an unknown target, a missing prompt, an unreachable node, a bad digit
spec, an unknown operation.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from ivr import strict_yaml

MENU_DIR = Path(__file__).with_name("menus")
NODE_TYPES = {"say", "menu", "collect", "confirm", "action", "branch", "transfer", "hangup",
              "goto"}
SECRET_MODES = {None, "encrypted", "transient"}
RESERVED_KEYS = {"0", "*"}  # agent and repeat, at every menu


class MenuError(ValueError):
    """A menu file is invalid; the message names file, node and problem."""


@dataclasses.dataclass(frozen=True)
class Option:
    goto: str
    set: dict[str, str]


@dataclasses.dataclass(frozen=True)
class DigitSpec:
    length: int | None = None
    min: int | str | None = None  # an int, or "$variable" read from the call
    max: int | str | None = None
    star_decimal: bool = False


@dataclasses.dataclass(frozen=True)
class Node:
    id: str
    type: str
    prompt: str | None = None
    next: str | None = None
    options: dict[str, Option] = dataclasses.field(default_factory=dict)
    digits: DigitSpec | None = None
    store: str | None = None
    secret: str | None = None
    yes: str | None = None
    no: str | None = None
    operation: str | None = None
    outcomes: dict[str, str] = dataclasses.field(default_factory=dict)
    var: str | None = None
    cases: dict[str, str] = dataclasses.field(default_factory=dict)
    default: str | None = None
    reason: str | None = None
    max_attempts: int | None = None
    timeout: int | None = None
    on_max_attempts: str | None = None
    back: str | None = None  # collect: where an entry of just * goes (the step before)
    # An input node's prompt said after its own, once per call: the ways out
    # (0, *) are told where they first apply, not at every step.
    hint: str | None = None

    @property
    def takes_input(self) -> bool:
        return self.type in {"menu", "collect", "confirm"}

    def targets(self) -> list[str]:
        found = [self.next, self.yes, self.no, self.default, self.on_max_attempts, self.back]
        found += [o.goto for o in self.options.values()]
        found += list(self.outcomes.values()) + list(self.cases.values())
        return [t for t in found if t]


@dataclasses.dataclass(frozen=True)
class Menu:
    source: str
    start: str
    max_attempts: int
    timeout: int
    agent: str
    on_max_attempts: str
    nodes: dict[str, Node]

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]


_FIELDS = {
    "say": {"prompt", "next"},
    "menu": {"prompt", "options"},
    "collect": {"prompt", "digits", "store", "secret", "next", "back"},
    "confirm": {"prompt", "yes", "no"},
    "action": {"operation", "outcomes"},
    "branch": {"var", "cases", "default"},
    "transfer": {"prompt", "reason"},
    "hangup": {"prompt"},
    "goto": {"next"},
}
_REQUIRED = {
    "say": {"prompt", "next"}, "menu": {"prompt", "options"},
    "collect": {"prompt", "digits", "store", "next"}, "confirm": {"prompt", "yes", "no"},
    "action": {"operation", "outcomes"}, "branch": {"var", "default"},
    "transfer": {"reason"}, "hangup": {"prompt"}, "goto": {"next"},
}
_COMMON = {"type", "max_attempts", "timeout", "on_max_attempts"}
_INPUT_FIELDS = {"hint"}  # for the node types that take input


def _digit_bound(value, where):
    if isinstance(value, bool):
        raise MenuError(f"{where}: must be a number or $variable")
    if isinstance(value, int):
        if not 1 <= value <= 40:
            raise MenuError(f"{where}: must be between 1 and 40")
        return value
    if isinstance(value, str) and value.startswith("$") \
            and all(part.isidentifier() for part in value[1:].split(".")):
        return value
    raise MenuError(f"{where}: must be a number or $variable")


def _digits(raw, where) -> DigitSpec:
    if not isinstance(raw, dict):
        raise MenuError(f"{where}: digits must be a mapping (length, or min and max)")
    unknown = set(raw) - {"length", "min", "max", "star_decimal"}
    if unknown:
        raise MenuError(f"{where}: digits has unknown field(s) {', '.join(sorted(unknown))}")
    star = raw.get("star_decimal", False)
    if not isinstance(star, bool):
        raise MenuError(f"{where}: digits.star_decimal must be true or false")
    if "length" in raw:
        if "min" in raw or "max" in raw:
            raise MenuError(f"{where}: digits takes length, or min and max, not both")
        length = raw["length"]
        if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= 40:
            raise MenuError(f"{where}: digits.length must be between 1 and 40")
        return DigitSpec(length=length, star_decimal=star)
    if "min" not in raw or "max" not in raw:
        raise MenuError(f"{where}: digits needs length, or both min and max")
    low = _digit_bound(raw["min"], f"{where}: digits.min")
    high = _digit_bound(raw["max"], f"{where}: digits.max")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        raise MenuError(f"{where}: digits.min is greater than digits.max")
    return DigitSpec(min=low, max=high, star_decimal=star)


def _options(raw, where) -> dict[str, Option]:
    if not isinstance(raw, dict) or not raw:
        raise MenuError(f"{where}: options must map keys to nodes")
    options = {}
    for key, value in raw.items():
        key = str(key)
        if len(key) != 1 or key not in "123456789#":
            raise MenuError(f"{where}: option key {key!r} must be one of 1-9 or #"
                            " (0 is the agent and * repeats, at every menu)")
        if isinstance(value, str):
            options[key] = Option(goto=value, set={})
        elif isinstance(value, dict) and set(value) <= {"goto", "set"} and "goto" in value:
            values = value.get("set") or {}
            if not isinstance(values, dict):
                raise MenuError(f"{where}: option {key}: set must be a mapping")
            options[key] = Option(goto=str(value["goto"]),
                                  set={str(k): str(v) for k, v in values.items()})
        else:
            raise MenuError(f"{where}: option {key}: give a node, or {{goto: node, set: {{…}}}}")
    return options


def _node(node_id: str, raw: Any, where: str) -> Node:
    if not isinstance(raw, dict):
        raise MenuError(f"{where}: a node must be a mapping")
    kind = raw.get("type")
    if kind not in NODE_TYPES:
        raise MenuError(f"{where}: unknown node type {kind!r}; known: {', '.join(sorted(NODE_TYPES))}")
    allowed = _FIELDS[kind] | _COMMON | (_INPUT_FIELDS if kind in {"menu", "collect", "confirm"}
                                          else set())
    unknown = set(raw) - allowed
    if unknown:
        raise MenuError(f"{where}: {kind} node has unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    missing = _REQUIRED[kind] - set(raw)
    if missing:
        raise MenuError(f"{where}: {kind} node is missing {', '.join(sorted(missing))}")
    if raw.get("secret") not in SECRET_MODES:
        raise MenuError(f"{where}: secret must be encrypted or transient")
    for field in ("max_attempts", "timeout"):
        value = raw.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 1 <= value <= 30):
            raise MenuError(f"{where}: {field} must be a number from 1 to 30")
    return Node(
        id=node_id, type=kind, prompt=raw.get("prompt"), next=raw.get("next"),
        options=_options(raw["options"], where) if kind == "menu" else {},
        digits=_digits(raw["digits"], where) if kind == "collect" else None,
        store=raw.get("store"), secret=raw.get("secret"),
        yes=raw.get("yes"), no=raw.get("no"), operation=raw.get("operation"),
        outcomes={str(k): str(v) for k, v in (raw.get("outcomes") or {}).items()},
        var=raw.get("var"),
        cases={str(k): str(v) for k, v in (raw.get("cases") or {}).items()},
        default=raw.get("default"), reason=raw.get("reason"),
        max_attempts=raw.get("max_attempts"), timeout=raw.get("timeout"),
        on_max_attempts=raw.get("on_max_attempts"), back=raw.get("back"),
        hint=raw.get("hint"),
    )


def parse_menu(text: str, *, source: str, prompts: set[str], operations: set[str]) -> Menu:
    try:
        data = strict_yaml.load(text)
    except yaml.YAMLError as exc:
        raise MenuError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), dict):
        raise MenuError(f"{source}: expected a mapping with start, defaults and nodes")
    unknown = set(data) - {"start", "defaults", "nodes"}
    if unknown:
        raise MenuError(f"{source}: unknown top-level field(s) {', '.join(sorted(unknown))}")
    defaults = data.get("defaults") or {}
    nodes = {str(k): _node(str(k), v, f"{source}: node {k!r}") for k, v in data["nodes"].items()}
    menu = Menu(
        source=source, start=str(data.get("start", "")),
        max_attempts=int(defaults.get("max_attempts", 3)),
        timeout=int(defaults.get("timeout", 5)),
        agent=str(defaults.get("agent", "")),
        on_max_attempts=str(defaults.get("on_max_attempts", "")),
        nodes=nodes,
    )
    _check_graph(menu, prompts, operations)
    return menu


def _check_graph(menu: Menu, prompts: set[str], operations: set[str]) -> None:
    src = menu.source
    for name, target in (("start", menu.start), ("defaults.agent", menu.agent),
                         ("defaults.on_max_attempts", menu.on_max_attempts)):
        if target not in menu.nodes:
            raise MenuError(f"{src}: {name} names unknown node {target!r}")
    if not 1 <= menu.max_attempts <= 10:
        raise MenuError(f"{src}: defaults.max_attempts must be between 1 and 10")
    for node in menu.nodes.values():
        where = f"{src}: node {node.id!r}"
        for target in node.targets():
            if target not in menu.nodes:
                raise MenuError(f"{where}: unknown target {target!r}")
        for field in ("prompt", "hint"):
            key = getattr(node, field)
            if key and key not in prompts:
                raise MenuError(f"{where}: missing {field} {key!r} in the prompt file")
        if node.operation and node.operation not in operations:
            raise MenuError(f"{where}: unknown operation {node.operation!r}")
    reachable, frontier = set(), [menu.start, menu.agent, menu.on_max_attempts]
    while frontier:
        node_id = frontier.pop()
        if node_id in reachable:
            continue
        reachable.add(node_id)
        frontier.extend(menu.nodes[node_id].targets())
    unreachable = sorted(set(menu.nodes) - reachable)
    if unreachable:
        raise MenuError(f"{src}: node {unreachable[0]!r} is unreachable from {menu.start!r}")


def load_menu(path: Path, *, prompts: set[str], operations: set[str]) -> Menu:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MenuError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_menu(text, source=str(path), prompts=prompts, operations=operations)
