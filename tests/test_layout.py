"""The layout's rules, checked on the source: `tools/` never imports `agent/`, no modules import
each other in a circle (counting imports inside functions and for type checking only), and no
function is too complex or too long (ruff's C901 and PLR0915, configured in pyproject.toml)."""

from __future__ import annotations

import ast
import fnmatch
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in ("agent", "tools") for p in (ROOT / pkg).rglob("*.py")}


def imported_names(name: str, path: Path) -> set[str]:
    """Every dotted name `path` imports, anywhere in it: `import a.b` gives `a.b`, `from a
    import b` gives `a.b` (b may be a module or a name in a: `import_graph` tells), and
    relative imports are resolved against the module's package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            out |= {f"{base}.{alias.name}" for alias in node.names}
    return out


def import_graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports (a name resolves to the longest
    module it is in: `from tools.contracts import Verdict` is `tools.contracts`)."""
    known = modules()

    def owner(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    return {
        name: {m for n in imported_names(name, path) if (m := owner(n)) and m != name}
        for name, path in known.items()
    }


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = stack[stack.index(node):]
            del stack[stack.index(node):]
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def describe(circle: list[str], graph: dict[str, set[str]]) -> str:
    """One circle as its modules and, for each, which of the others it imports."""
    members = set(circle)
    return "\n".join(f"  {m} -> {', '.join(sorted(graph[m] & members))}" for m in circle)


def test_tools_never_import_agent() -> None:
    offenders = {
        name: sorted(m for m in targets if m.startswith("agent"))
        for name, targets in import_graph().items() if name.startswith("tools")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_a_circle_of_imports_is_found_however_it_is_written() -> None:
    """The finder itself: a three-module circle closed by an import inside a function,
    beside a module that only imports into the circle, and a pair importing each other."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"f"}, "f": {"e"}, "g": set()}
    assert circles(graph) == [["a", "b", "c"], ["e", "f"]]


def test_imports_inside_functions_and_relative_ones_are_read(tmp_path: Path) -> None:
    source = tmp_path / "drawer.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "from ..other import thing\n"
        "if TYPE_CHECKING:\n    from tools.generate.face import FaceDrawer\n"
        "def f():\n    import tools.generate.hair\n"
    )
    names = imported_names("tools.generate.drawer", source)
    assert {"tools.generate.sibling", "tools.other.thing", "tools.generate.face.FaceDrawer",
            "tools.generate.hair"} <= names


def test_no_modules_import_each_other_in_a_circle() -> None:
    """A circle, even through an import inside a function or for type checking only, means
    neither module can be understood (or moved) without the other: move what both need into
    a module below them."""
    graph = import_graph()
    found = circles(graph)
    assert not found, "import circles:\n" + "\n\n".join(describe(c, graph) for c in found)


def test_the_function_size_rules_are_on_at_their_thresholds() -> None:
    """Limits on functions, not files: ruff's McCabe complexity 10 and 50 statements."""
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]
    assert {"C901", "PLR0915"} <= set(lint["lint"]["select"])
    assert lint["lint"]["mccabe"]["max-complexity"] == 10
    assert lint["lint"]["pylint"]["max-statements"] == 50
    ignored = lint["lint"].get("per-file-ignores", {})
    assert all(rules == ["PLR0915"] for rules in ignored.values()), ignored


def test_no_function_is_too_complex_or_too_long() -> None:
    """Split a long function into steps named for what they do; only the drawing code has a
    statement-count exemption (pyproject.toml says why)."""
    ruff = [sys.executable, "-m", "ruff"]
    if subprocess.run([*ruff, "--version"], capture_output=True).returncode != 0:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    done = subprocess.run(
        [*ruff, "check", "--select", "C901,PLR0915", "--output-format", "concise", "."],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout


def test_every_test_folder_is_collected(pytestconfig: pytest.Config) -> None:
    """The tests mirror the source folders, and one was once named `build`, which pytest's
    default `norecursedirs` skips without a word: every folder holding tests must be reached."""
    skipped = pytestconfig.getini("norecursedirs")
    folders = {p.parent for p in (ROOT / "tests").rglob("test_*.py")}
    unreached = sorted(
        str(folder.relative_to(ROOT)) for folder in folders
        if any(fnmatch.fnmatch(part, pattern) for part in folder.relative_to(ROOT).parts
               for pattern in skipped)
    )
    assert unreached == []


@pytest.mark.parametrize("package", ["agent.planning", "agent.language"])
def test_planning_and_language_never_import_the_run_time(package: str) -> None:
    """What a build runs on (`agent.runtime`) may use planning and language, never the other
    way round: imports inside functions and under TYPE_CHECKING count too."""
    offenders = {
        name: sorted(m for m in targets if m == "agent.runtime" or m.startswith("agent.runtime."))
        for name, targets in import_graph().items()
        if name == package or name.startswith(package + ".")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
