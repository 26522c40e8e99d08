"""The layout's rules, checked on the source: `tools/` never imports `agent/`, no two
modules import each other at load time (an import circle), and no module is over 500 lines."""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, *, top_level_only: bool) -> set[str]:
    """Modules `path` imports (every import, or only those run when it loads); for
    `from package import submodule`, the submodule."""
    known = modules()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            subs = {f"{node.module}.{a.name}" for a in node.names} & set(known)
            out |= subs if len(subs) == len(node.names) else {node.module, *subs}
    return {m for m in out if m.split(".")[0] in ("agent", "tools")}


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in ("agent", "tools") for p in (ROOT / pkg).rglob("*.py")}


def test_tools_never_import_agent() -> None:
    offenders = {
        name: sorted(m for m in imports(path, top_level_only=False) if m.startswith("agent"))
        for name, path in modules().items() if name.startswith("tools")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_module_imports_itself_back_at_load_time() -> None:
    known = modules()
    graph = {
        name: {m for m in imports(path, top_level_only=True) if m in known and m != name}
        for name, path in known.items()
    }
    circles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_no_module_is_over_500_lines() -> None:
    """Small modules with one responsibility (the engineering guide's limit)."""
    long = {
        name: lines for name, path in modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}


def test_every_test_folder_is_collected(pytestconfig: pytest.Config) -> None:
    """The tests mirror the source folders, and one of them is named `build`, which pytest's
    default `norecursedirs` skips without a word: every folder holding tests must be reached."""
    skipped = pytestconfig.getini("norecursedirs")
    folders = {p.parent for p in (ROOT / "tests").rglob("test_*.py")}
    unreached = sorted(
        str(folder.relative_to(ROOT)) for folder in folders
        if any(fnmatch.fnmatch(part, pattern) for part in folder.relative_to(ROOT).parts
               for pattern in skipped)
    )
    assert unreached == []
