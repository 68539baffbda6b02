"""The IVR's modules hang together one way: nobody reaches into another
module's private names (ivr/runtime.py is the public home of the request
helpers), and only the speaker turns text into <Say>. (Import cycles, across
every package: tests/unit/test_import_graph.py.)"""
import ast
from pathlib import Path

IVR = Path(__file__).resolve().parents[2] / "ivr"
# Where text becomes TwiML speech: the speaker, and play mode's player under it.
SPEAKERS = {"speaker.py", "audio/player.py"}


def modules() -> dict[str, ast.Module]:
    found = {}
    for path in IVR.rglob("*.py"):
        parts = path.relative_to(IVR.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(), filename=str(path))
    return found


def imports(tree: ast.Module, names: set[str]):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                yield (full if full in names else node.module), alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None


def test_no_module_of_the_ivr_imports_another_ones_private_names():
    trees = modules()
    private = [(name, module, imported) for name, tree in trees.items()
               for module, imported in imports(tree, set(trees))
               if module.startswith("ivr") and imported and imported.startswith("_")
               and not imported.startswith("__")]
    assert private == []


def test_only_the_speaker_turns_text_into_say():
    saying = []
    for path in IVR.rglob("*.py"):
        where = path.relative_to(IVR).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "say" and where not in SPEAKERS \
                    and any(k.arg in ("voice", "language") for k in node.keywords):
                saying.append(f"{where}:{node.lineno}")
    assert saying == []
