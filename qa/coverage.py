"""Which menu nodes and exits a set of calls went through, and which never.

The menu data (ivr/menus/*.yaml, through ivr/menu_schema.py) says what exists:
every node, and every exit a node declares — a menu's options, a confirm's
yes/no, an action's outcomes, a branch's cases, a say's next. Two exits every
input node has by rule are counted apart: `0` to an agent (menus and
confirms) and the failure exit after max_attempts.

What was visited comes from the server side: each recorded turn lists the
nodes the interpreter ran, in order (call_transcripts, written when a call
ends). Consecutive nodes of a call are the exits it took. Keys that lead to
the same node (options 1-4 of the transfers menu) are one exit.
"""
from __future__ import annotations

import dataclasses

from ivr.menu_schema import Menu


@dataclasses.dataclass(frozen=True)
class Exit:
    source: str
    target: str
    labels: tuple[str, ...]  # the keys or outcome codes that take it
    rule: bool = False  # the agent / max-attempts exits every input node has

    def __str__(self) -> str:
        return f"{self.source} --{'|'.join(self.labels)}--> {self.target}"


def menu_exits(menu: Menu) -> list[Exit]:
    exits: dict[tuple[str, str, bool], list[str]] = {}

    def add(source, target, label, rule=False):
        exits.setdefault((source, target, rule), []).append(label)

    for node in menu.nodes.values():
        if node.next:
            add(node.id, node.next, "next")
        for key, option in node.options.items():
            add(node.id, option.goto, key)
        if node.yes:
            add(node.id, node.yes, "1 yes")
        if node.no:
            add(node.id, node.no, "2 no")
        for code, target in node.outcomes.items():
            add(node.id, target, code)
        for value, target in node.cases.items():
            add(node.id, target, f"={value}")
        if node.type == "branch" and node.default:
            add(node.id, node.default, "default")
        if node.type in {"menu", "confirm"}:
            add(node.id, menu.agent, "0 agent", rule=True)
        if node.takes_input:
            add(node.id, node.on_max_attempts or menu.on_max_attempts, "max_attempts",
                rule=True)
    return [Exit(s, t, tuple(labels), rule) for (s, t, rule), labels in exits.items()]


def visited_paths(recordings) -> list[list[str]]:
    """One list of nodes per call, in the order they ran."""
    return [[node for turn in r.turns for node in turn.get("visited", ())] for r in recordings]


@dataclasses.dataclass(frozen=True)
class Coverage:
    nodes: tuple[str, ...]
    visited_nodes: frozenset[str]
    exits: tuple[Exit, ...]
    visited_exits: frozenset[Exit]
    calls: int

    @property
    def never_nodes(self) -> list[str]:
        return [n for n in self.nodes if n not in self.visited_nodes]

    def never_exits(self, *, rule: bool) -> list[Exit]:
        return [e for e in self.exits if e.rule == rule and e not in self.visited_exits]

    def count(self, *, rule: bool) -> tuple[int, int]:
        exits = [e for e in self.exits if e.rule == rule]
        return sum(e in self.visited_exits for e in exits), len(exits)

    def report(self) -> str:
        lines = [f"coverage over {self.calls} call(s):"]
        lines.append(f"  nodes visited       {len(self.visited_nodes & set(self.nodes)):>3} of "
                     f"{len(self.nodes)}")
        seen, total = self.count(rule=False)
        lines.append(f"  menu exits taken    {seen:>3} of {total}")
        seen_rule, total_rule = self.count(rule=True)
        lines.append(f"  rule exits taken    {seen_rule:>3} of {total_rule}"
                     "  (0 to an agent, max attempts: every input node has them)")
        if self.never_nodes:
            lines.append("  never visited nodes:")
            lines += [f"    {n}" for n in self.never_nodes]
        never = self.never_exits(rule=False)
        if never:
            lines.append("  never taken exits:")
            lines += [f"    {e}" for e in never]
        if not self.never_nodes and not never:
            lines.append("  every node visited and every menu exit taken")
        return "\n".join(lines)


def compute(menu: Menu, recordings) -> Coverage:
    recordings = list(recordings)
    exits = menu_exits(menu)
    by_pair: dict[tuple[str, str], list[Exit]] = {}
    for e in exits:
        by_pair.setdefault((e.source, e.target), []).append(e)
    visited_nodes, visited_exits = set(), set()
    for path in visited_paths(recordings):
        visited_nodes.update(path)
        for pair in zip(path, path[1:]):
            visited_exits.update(by_pair.get(pair, ()))
    return Coverage(nodes=tuple(menu.nodes), visited_nodes=frozenset(visited_nodes),
                    exits=tuple(exits), visited_exits=frozenset(visited_exits),
                    calls=len(recordings))
