"""The import rules of DESIGN.md "Where things live", kept by the test suite.

Statically: every ``import`` and ``from ... import`` of every module of the project (relative
imports resolved, ``if TYPE_CHECKING:`` blocks left out) is checked against the table below,
the public side must not reach the domain even transitively, and the module graph has no
cycles. Dynamically: importing the public side in a fresh interpreter loads no domain module.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AREAS = ("domain", "projections", "bridge", "api_internal", "api_public", "deployment", "tests")
EVERYTHING = frozenset(AREAS)

# Who may import whom. The longest key that is the importing module or a package above it
# decides; a module may always import its own area, the standard library and third parties.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "projections": frozenset(),
    # The SQL store (SQLite or PostgreSQL, tracking in the same transaction) is neutral
    # infrastructure that imports nothing of the project; both sides and the bridge use it.
    "projections.store": frozenset(),
    # The filing certificate as a PDF, drawn from plain facts: neutral too, so the staff API
    # (internal read model) and the public API (public register) draw the same document.
    "projections.certificate_pdf": frozenset(),
    # The check that a follower of the log never skips an event (issue 16): the internal read
    # models, the ledger and the outbound bridge follow the log with it; only the store.
    "projections.log_guard": frozenset({"projections.store"}),
    # The /docs page served from the installation and the problem schema of both OpenAPI
    # documents: neutral too, so the two APIs document their refusals alike.
    "projections.api_docs": frozenset(),
    # Whom a request counts as (the client key, trusted proxies): neutral too, so both APIs
    # count their clients by the same rule (docs/security.md).
    "projections.client_address": frozenset(),
    "projections.internal": frozenset({"domain", "projections.store", "projections.log_guard"}),
    "projections.public": frozenset({"bridge.contract", "projections.store"}),
    "bridge": frozenset(  # outbound, intake import
        {"bridge", "domain", "projections.store", "projections.log_guard"}
    ),
    "bridge.contract": frozenset(),  # the versioned public schemas: nothing of the project
    # The public half of intake runs on the public side: never the domain.
    "bridge.intake.public": frozenset(
        {"bridge.contract", "bridge.transports", "projections.store"}
    ),
    "bridge.transports": frozenset(),  # both sides use them: nothing of the project
    "bridge.receiver": frozenset(
        {"bridge.contract", "bridge.transports", "projections.public", "projections.store"}
    ),
    "api_internal": frozenset(
        {
            "domain",
            "projections.internal",
            "projections.store",
            "projections.certificate_pdf",
            "projections.api_docs",
            "projections.client_address",
        }
    ),
    "api_public": frozenset(
        {
            "projections.public",
            "projections.store",
            "projections.certificate_pdf",
            "projections.api_docs",
            "projections.client_address",
            "bridge.contract",
            "bridge.intake",
        }
    ),
    "deployment": EVERYTHING,
    "tests": EVERYTHING,
}
# The public side never loads these, not even through something it may import.
PUBLIC_SIDE = ("api_public", "projections.public")
NEVER_ON_THE_PUBLIC_SIDE = ("domain", "api_internal", "deployment", "projections.internal")


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def area_of(module: str) -> str:
    return max((key for key in MAY_IMPORT if within(module, key)), key=len)


def modules_under(root: Path) -> dict[str, Path]:
    """Module name -> file, for every .py file of the project's top-level folders."""
    found: dict[str, Path] = {}
    for area in AREAS:
        for path in sorted((root / area).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, also inside functions, but not under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and is_type_checking(node.test):
            for branch in node.orelse:
                yield from import_nodes(ast.Module(body=[branch], type_ignores=[]))
        else:
            yield from import_nodes(node)


def imports_of(module: str, path: Path, known: Iterable[str]) -> list[Import]:
    """The project modules ``module`` imports (the deepest module each statement names)."""
    known = set(known)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    for node in import_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            targets = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source
                for alias in node.names
            ]
        for name in targets:
            target = name
            while target and target not in known:  # `import a.b.c` where only a.b is ours
                target = target.rpartition(".")[0]
            edge = Import(module, target, node.lineno)
            if target and target.split(".")[0] in AREAS and edge not in found:
                found.append(edge)
    return found


def import_graph(root: Path) -> list[Import]:
    modules = modules_under(root)
    return [edge for module, path in modules.items() for edge in imports_of(module, path, modules)]


def forbidden(edges: Iterable[Import]) -> list[str]:
    problems = []
    for edge in edges:
        area = area_of(edge.importer)
        allowed = MAY_IMPORT[area] | {area}
        if not any(within(edge.imported, prefix) for prefix in allowed):
            problems.append(f"{edge.importer}:{edge.line} imports {edge.imported} ({area})")
    return problems


def cycles(edges: Iterable[Import]) -> list[list[str]]:
    """The strongly connected components with more than one module, or a module importing
    itself (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.importer, set()).add(edge.imported)
        graph.setdefault(edge.imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def reachable(edges: Iterable[Import], starts: Iterable[str]) -> set[str]:
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.importer, set()).add(edge.imported)
    seen: set[str] = set()
    todo = list(starts)
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    return seen


@pytest.fixture(scope="module")
def graph() -> list[Import]:
    return import_graph(ROOT)


# -- the project ------------------------------------------------------------------------------


def test_the_graph_sees_the_projects_imports(graph: list[Import]) -> None:
    # Guards the checks below against passing on an empty or misread graph.
    seen = {(edge.importer, edge.imported) for edge in graph}
    assert ("projections.internal.projector", "projections.internal.filings") in seen
    assert ("deployment.bootstrap", "domain.services") in seen


def test_every_import_follows_the_table_of_allowed_imports(graph: list[Import]) -> None:
    assert forbidden(graph) == []


def test_the_public_side_never_reaches_the_domain_even_transitively(
    graph: list[Import],
) -> None:
    modules = modules_under(ROOT)
    public = [m for m in modules if any(within(m, side) for side in PUBLIC_SIDE)]
    assert public  # the packages exist, even while they are still small

    reached = reachable(graph, public)

    assert (
        sorted(m for m in reached if any(within(m, never) for never in NEVER_ON_THE_PUBLIC_SIDE))
        == []
    )


def test_there_are_no_import_cycles_between_modules(graph: list[Import]) -> None:
    assert cycles(graph) == []


def loaded_in_a_fresh_interpreter(package: str) -> list[str]:
    """Project modules loaded by importing ``package`` and every module below it."""
    script = textwrap.dedent(
        f"""
        import importlib, json, pkgutil, sys
        package = importlib.import_module({package!r})
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
        print(json.dumps(sorted(sys.modules)))
        """
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(result.stdout)
    return [m for m in loaded if m.split(".")[0] in AREAS]


@pytest.mark.parametrize("package", PUBLIC_SIDE)
def test_importing_the_public_side_in_a_fresh_interpreter_loads_no_domain_module(
    package: str,
) -> None:
    loaded = loaded_in_a_fresh_interpreter(package)

    assert package in loaded
    assert [m for m in loaded if any(within(m, n) for n in NEVER_ON_THE_PUBLIC_SIDE)] == []


# -- the checker itself -----------------------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")


def test_the_checker_finds_forbidden_imports_relative_ones_included(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "domain/__init__.py": "",
            "domain/filing.py": "from projections.internal import store\n",
            "projections/__init__.py": "",
            "projections/internal/__init__.py": "",
            "projections/internal/store.py": "from ..public import rows\n",
            "projections/public/__init__.py": "",
            "projections/public/rows.py": "import bridge.contract\n",
            "bridge/__init__.py": "",
            "bridge/contract/__init__.py": "from bridge import sanitise\n",
            "bridge/sanitise.py": "import domain.filing\n",
            "api_public/__init__.py": "from bridge.sanitise import clean\n",
        },
    )

    assert sorted(forbidden(import_graph(tmp_path))) == [
        "api_public:1 imports bridge.sanitise (api_public)",
        "bridge.contract:1 imports bridge.sanitise (bridge.contract)",
        "domain.filing:1 imports projections.internal.store (domain)",
        "projections.internal.store:1 imports projections.public.rows (projections.internal)",
    ]


def test_the_fresh_interpreter_check_sees_what_a_package_loads() -> None:
    assert "domain.filing" in loaded_in_a_fresh_interpreter("projections.internal")


def test_the_checker_finds_cycles_but_not_type_checking_imports(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "domain/__init__.py": "",
            "domain/a.py": "from domain import b\n",
            "domain/b.py": "def later():\n    from domain.c import x\n",
            "domain/c.py": "import domain.a\n",
            "domain/d.py": """
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    from domain.e import y
                else:
                    import json
            """,
            "domain/e.py": "from .d import z\n",
        },
    )

    assert cycles(import_graph(tmp_path)) == [["domain.a", "domain.b", "domain.c"]]
