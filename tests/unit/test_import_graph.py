"""The layout's rules, read from the code itself (every `import`, at the top
or inside a function): the core knows no HTTP and no Twilio; no channel
imports another; the shared web layer imports no channel; nothing imports the
composition root but the tools; the running system imports no QA or build
tool; no module cycle. docs/architecture.md says why each rule exists."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("banking_core", "config", "telephony", "web", "ivr", "web_fallback", "agent_desk",
            "linea_directa", "qa", "tools")
CHANNELS = ("ivr", "web_fallback", "agent_desk")
WEB_FRAMEWORKS = ("flask", "flask_wtf", "flask_limiter", "werkzeug", "jinja2", "twilio")
TOOLS = ("qa", "tools")
# What the running system is: everything wsgi.py reaches. The command line
# (linea_directa.cli) assembles the tools too and is not part of it.
RUNTIME = ("banking_core", "config", "telephony", "web", "ivr", "web_fallback", "agent_desk",
           "linea_directa.app", "linea_directa")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module `name` imports, resolved: `from a import b` is a.b when
    a.b is a module of ours, else a."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return {imported for imported in found if imported}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _top(name: str) -> str:
    return name.split(".")[0]


def _in(name: str, packages) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_core_knows_no_web_framework_and_no_twilio():
    offending = sorted(f"{module} imports {imported}" for module, imports in GRAPH.items()
                       if _in(module, ("banking_core",)) for imported in imports
                       if _top(imported) in WEB_FRAMEWORKS)
    assert offending == []


def test_no_channel_imports_another():
    offending = sorted(
        f"{module} imports {imported}" for module, imports in GRAPH.items()
        for imported in imports
        if _top(module) in CHANNELS and _top(imported) in CHANNELS
        and _top(imported) != _top(module))
    assert offending == []


def test_the_shared_web_layer_and_the_channels_never_import_their_assembler():
    """web/ serves every channel, so it imports none of them; nothing below
    the composition root imports it (it would be a cycle in waiting)."""
    offending = sorted(
        f"{module} imports {imported}" for module, imports in GRAPH.items()
        for imported in imports
        if (_top(module) == "web" and _top(imported) in (*CHANNELS, "linea_directa"))
        or (_top(module) in (*CHANNELS, "web", "banking_core", "config", "telephony")
            and _top(imported) == "linea_directa"))
    assert offending == []


def test_the_running_system_imports_no_qa_or_build_tool():
    runtime = [m for m in GRAPH if _in(m, RUNTIME) and m != "linea_directa.cli"]
    offending = sorted(f"{module} imports {imported}" for module in runtime
                       for imported in GRAPH[module] if _top(imported) in TOOLS)
    assert offending == []


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH.get(node, ()):
            if target not in GRAPH or target == node:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    assert _cycles() == []


@pytest.mark.parametrize("rule", ["core", "channels", "web", "tools", "cycle"])
def test_each_rule_catches_what_it_forbids(rule, monkeypatch):
    """The checks above fail on a graph that breaks them."""
    broken = {name: set(imports) for name, imports in GRAPH.items()}
    if rule == "core":
        broken["banking_core.bank"].add("flask")
        check = test_the_core_knows_no_web_framework_and_no_twilio
    elif rule == "channels":
        broken["agent_desk.views"].add("web_fallback.views")
        check = test_no_channel_imports_another
    elif rule == "web":
        broken["web.sessions"].add("agent_desk.views")
        check = test_the_shared_web_layer_and_the_channels_never_import_their_assembler
    elif rule == "tools":
        broken["ivr.webhooks"].add("qa.simulator")
        check = test_the_running_system_imports_no_qa_or_build_tool
    else:
        broken["banking_core.money"].add("banking_core.bank")
        check = test_no_import_cycles
    monkeypatch.setitem(globals(), "GRAPH", broken)
    with pytest.raises(AssertionError):
        check()
