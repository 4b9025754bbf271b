"""The project's packages import each other in one direction only.

Every `import` of a project module counts, at the top of a file or inside a function: an
import moved into a function still ties the two modules together. A new cycle fails here
with the modules that form it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "graph", "loaders", "api", "alliance")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imported(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules that the module at `path` imports, anywhere in it
    (`from package import module` names the module, not the package)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
            submodules = [n for n in names if n in known]
            targets.update(submodules if len(submodules) == len(names) else [base, *submodules])
    return {_owner(t, known) for t in targets if _owner(t, known)} - {name}


def _owner(target: str, known: set[str]) -> str:
    """The known module `target` names, or the nearest known package above it."""
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imported(path, name, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_sees_an_import_inside_a_function() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def upward_imports(graph: dict[str, set[str]] | None = None) -> set[str]:
    order = {"core": 0, "graph": 1, "loaders": 2, "api": 2, "alliance": 3}
    wrong = set()
    for name, targets in (import_graph() if graph is None else graph).items():
        for target in targets:
            top, dest = name.split(".")[0], target.split(".")[0]
            if order[dest] > order[top] or (order[dest] == order[top] and dest != top):
                wrong.add(f"{name} -> {target}")
    return wrong


def test_lower_layers_never_import_upper_ones() -> None:
    """core/ is the bottom and imports nothing of the project; graph/ stands on it;
    loaders/ and api/ stand on graph/ and never import each other; alliance/ (the CLI)
    is the top."""
    assert upward_imports() == set()


def test_layer_check_sees_upward_and_sideways_imports() -> None:
    graph = {"core.settings": {"graph.model"}, "api.main": {"loaders.read", "graph.model"},
             "alliance.cli": {"api.main", "core.settings"}}
    assert upward_imports(graph) == {"core.settings -> graph.model", "api.main -> loaders.read"}
