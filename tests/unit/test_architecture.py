"""The shape of ``app/`` (docs/architecture.md, ADR 0012), checked on the import graph (ast).

- no import circle between service packages, and imports only go down the layer order;
- from outside a service package only its face (``app/services/<pkg>/__init__.py``) is used;
- services never import blueprints, never read ``request`` or ``flask.g``;
- no function-local import of ``app.services...`` inside ``app/services`` (none allowed);
- no service module over 600 lines, no service function over 80 lines.
"""

from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
SERVICES = APP / "services"
LAYERS = ["common", "ledger", "counter", "members", "access", "deposits", "loans", "payments", "reports", "eod"]
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted ("app.services.deposits.fixed")
    target: str  # the imported module, absolute ("app.services.ledger.coa")
    names: tuple[str, ...]  # for "from X import a, b": ("a", "b"); for "import X": ()
    line: int
    local: bool  # inside a function body

    def where(self) -> str:
        return f"{self.module.replace('.', '/')}.py:{self.line}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.module, self.is_package = module, is_package
        self.depth = 0
        self.found: list[Import] = []

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append(Import(self.module, alias.name, (), node.lineno, self.depth > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        target = _resolve(self.module, self.is_package, node)
        names = tuple(alias.name for alias in node.names)
        self.found.append(Import(self.module, target, names, node.lineno, self.depth > 0))


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


@cache
def imports() -> tuple[Import, ...]:
    out: list[Import] = []
    for path in sorted(APP.rglob("*.py")):
        collector = _Collector(_module_name(path), path.name == "__init__.py")
        collector.visit(_tree(path))
        out.extend(collector.found)
    return tuple(out)


def _service_package(dotted: str) -> str | None:
    """ "app.services.ledger.coa" → "ledger"; None outside app.services (or for the services root)."""
    parts = dotted.split(".")
    if parts[:2] == ["app", "services"] and len(parts) >= 3:
        return parts[2]
    return None


def _service_packages() -> list[str]:
    return sorted(p.name for p in SERVICES.iterdir() if (p / "__init__.py").exists())


@cache
def face_names(package: str) -> frozenset[str]:
    """Names a package's face binds: its own definitions, imports and re-exports."""
    names: set[str] = set()
    for node in _tree(SERVICES / package / "__init__.py").body:
        if isinstance(node, ast.ImportFrom | ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return frozenset(names)


def package_edges() -> dict[str, dict[str, list[str]]]:
    """importing service package → imported service package → where (module-level and local imports)."""
    edges: dict[str, dict[str, list[str]]] = {}
    for imp in imports():
        source = _service_package(imp.module)
        if source is None:
            continue
        targets = {_service_package(imp.target)}
        if imp.target == "app.services":  # "from app.services import ledger, deposits"
            targets = set(imp.names)
        for target in targets - {None, source}:
            edges.setdefault(source, {}).setdefault(target, []).append(imp.where())  # type: ignore[arg-type]
    return edges


# ---------------------------------------------------------------- the graph


def test_the_service_packages_are_the_layers():
    assert set(_service_packages()) == set(LAYERS)


def test_no_import_circle_between_service_packages():
    edges = package_edges()
    circles: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        for nxt in sorted(edges.get(node, {})):
            if nxt == path[0]:
                circles.append([*path, nxt])
            elif nxt not in path and nxt > path[0]:  # report each circle once, from its smallest member
                walk(nxt, [*path, nxt])

    for start in sorted(edges):
        walk(start, [start])
    described = [
        " → ".join(circle) + "  (" + "; ".join(edges[a][b][0] for a, b in itertools.pairwise(circle)) + ")"
        for circle in circles
    ]
    assert not described, "import circles between service packages:\n" + "\n".join(described)


def test_service_imports_only_go_down_the_layer_order():
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = [
        f"{source} imports {target} (higher layer) at {wheres[0]}"
        for source, targets in sorted(package_edges().items())
        for target, wheres in sorted(targets.items())
        if source in rank and target in rank and rank[target] > rank[source]
    ]
    assert not upward, "layer order " + " < ".join(LAYERS) + ":\n" + "\n".join(upward)


def test_outside_a_service_package_only_its_face_is_imported():
    wrong = []
    for imp in imports():
        target_pkg = _service_package(imp.target)
        if target_pkg is None or _service_package(imp.module) == target_pkg:
            continue
        depth = len(imp.target.split("."))
        if depth > 3:  # app.services.X.sub
            wrong.append(f"{imp.where()}: imports {imp.target} (use app.services.{target_pkg})")
            continue
        missing = [n for n in imp.names if n != "*" and n not in face_names(target_pkg)]
        if missing:
            wrong.append(f"{imp.where()}: {', '.join(missing)} not exported by app.services.{target_pkg}")
    assert not wrong, "imports past a package's face:\n" + "\n".join(wrong)


def test_services_never_import_blueprints_request_or_g():
    wrong = []
    for imp in imports():
        if _service_package(imp.module) is None:
            continue
        if imp.target.startswith("app.blueprints") or (imp.target == "app" and "blueprints" in imp.names):
            wrong.append(f"{imp.where()}: imports {imp.target}")
        if imp.target == "flask" and {"request", "g", "session"} & set(imp.names):
            wrong.append(f"{imp.where()}: imports {sorted({'request', 'g', 'session'} & set(imp.names))} from flask")
        if imp.target in {"flask.globals", "flask.g"}:
            wrong.append(f"{imp.where()}: imports {imp.target}")
    assert not wrong, "services reach into the web layer:\n" + "\n".join(wrong)


def test_no_function_local_service_imports_inside_services():
    local = [
        f"{imp.where()}: {imp.target}"
        for imp in imports()
        if imp.local and _service_package(imp.module) is not None and imp.target.startswith("app.services")
    ]
    assert not local, "function-local imports of services (import at the top; fix a circle instead):\n" + "\n".join(
        local
    )


# ---------------------------------------------------------------- sizes


def _service_modules() -> list[Path]:
    return sorted(SERVICES.rglob("*.py"))


def test_no_service_module_over_600_lines():
    long = [
        f"{path.relative_to(ROOT)}: {n} lines"
        for path in _service_modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, f"service modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(long)


def test_no_service_function_over_80_lines():
    long = []
    for path in _service_modules():
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {n} lines")
    assert not long, f"service functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


# ---------------------------------------------------------------- the checker itself


@pytest.mark.parametrize(
    ("module", "is_package", "source", "expected"),
    [
        ("app.services.access.scoping", False, "from ..common import NotFound", "app.services.common"),
        ("app.services.access.scoping", False, "from . import tokens", "app.services.access"),
        ("app.services.access", True, "from .scoping import x", "app.services.access.scoping"),
        ("app.services.deposits.fixed", False, "from app.services.ledger import coa", "app.services.ledger"),
    ],
)
def test_relative_imports_resolve(module, is_package, source, expected):
    node = ast.parse(source).body[0]
    assert _resolve(module, is_package, node) == expected


def test_the_collector_sees_function_local_imports():
    collector = _Collector("app.services.x.y", False)
    collector.visit(ast.parse("import os\ndef f():\n    from app.services.ledger import coa\n"))
    assert [(i.target, i.local) for i in collector.found] == [("os", False), ("app.services.ledger", True)]
