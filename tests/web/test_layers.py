"""Issue 13: one web layer. The channels for people (Conexión Personal, the
desk) share web/ and the core, and never import each other nor the IVR; the
web layer imports no channel nor the IVR. Read from the source, so a new
import that breaks the rule fails here before it tangles anything."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Package -> the top-level packages of ours it must never import.
FORBIDDEN = {
    "web": {"web_fallback", "agent_desk", "ivr", "linea_directa"},
    "web_fallback": {"agent_desk", "ivr", "linea_directa"},
    "agent_desk": {"web_fallback", "ivr", "linea_directa"},
}


def imported(path: Path) -> set[str]:
    """The top-level packages a module imports (at its top or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_the_web_layer_and_its_channels_keep_to_their_side(package):
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, package
    wrong = {f"{path.relative_to(ROOT)} imports {name}"
             for path in modules for name in imported(path) & FORBIDDEN[package]}
    assert not wrong, sorted(wrong)


def test_the_scan_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from ivr.blueprint import bp\n    import agent_desk.views\n")
    assert imported(module) == {"ivr", "agent_desk"}
