"""The layout holds by test: no import cycles, no huge modules, pure modules stay pure.

See docs/architecture.md for the layers these tests keep.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "apps"
MAX_LINES = 500
# A function-level import is allowed only with this note beside it, saying which cycle it breaks.
CYCLE_NOTE = "breaks the cycle"
# Modules (or packages: every module under them) that must import without Django.
PURE = [
    "apps.common.numbers",
    "apps.common.dates",
    "apps.common.display",
    "apps.common.tables",
    "apps.rating.engine",
    "apps.rating.book",
    "apps.rating.bulk",
    "apps.rating.records",
    "apps.rating.summary",
    "apps.compare.estimate",
    "apps.usage.formats",
    "apps.plans.terms",
    "apps.plans.windows",
    "apps.plans.verdict",
    "apps.plans.resume",
    "apps.plans.resumes",
    "apps.plans.breakeven",
    "apps.plans.charts",
    "apps.plans.display",
]


def _sources() -> list[Path]:
    return sorted(
        p for p in APPS.rglob("*.py") if "migrations" not in p.parts and "data" not in p.parts
    )


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> list[str]:
    if node.level:
        base = module.split(".")
        if path.name != "__init__.py":
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, node.module] if node.module else base)
    else:
        target = node.module or ""
    # "from pkg import name" may import the submodule pkg.name
    return [target, *(f"{target}.{alias.name}" for alias in node.names)]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(module: str, path: Path, tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and _is_type_checking(node):
            continue
        nodes = [node] + (list(ast.walk(node)) if isinstance(node, ast.If | ast.Try) else [])
        for n in nodes:
            if isinstance(n, ast.Import):
                found.update(alias.name for alias in n.names)
            elif isinstance(n, ast.ImportFrom):
                found.update(_resolve(module, path, n))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in _sources()}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        graph[name] = {
            m for m in _top_level_imports(name, path, tree) if m in modules and m != name
        }
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_modules():
    # A package's __init__ importing its own submodules is not a cycle of design.
    graph = {
        m: {d for d in deps if not (d.startswith(m + ".") and m.count(".") >= 1)}
        for m, deps in _graph().items()
    }
    assert _cycles(graph) == []


def test_function_level_imports_say_which_cycle_they_break():
    offenders = []
    for path in _sources():
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines), str(path))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    context = " ".join(lines[max(0, node.lineno - 3) : node.end_lineno])
                    if CYCLE_NOTE not in context:
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_no_module_over_500_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _sources()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_pure_modules_import_without_django():
    script = f"""
import importlib, json, pkgutil, sys
names = {PURE!r}
loaded = []
for name in names:
    module = importlib.import_module(name)
    loaded.append(name)
    if hasattr(module, "__path__"):
        for info in pkgutil.walk_packages(module.__path__, name + "."):
            importlib.import_module(info.name)
            loaded.append(info.name)
django = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
print(json.dumps({{"loaded": loaded, "django": django}}))
"""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}  # no DJANGO_SETTINGS_MODULE
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["django"] == []
    assert len(report["loaded"]) >= len(PURE)


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_code_does_not_point_outside_the_repository(path):
    text = path.read_text()
    assert (
        "../shared" not in text and "shared/reference" not in text and "shared/samples" not in text
    )
