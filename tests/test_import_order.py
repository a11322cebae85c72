"""The module dependency order (issue 13, item 2): no import circles, no upward imports.

Every module of rehab_net/ is parsed with ``ast``; its imports (module level and inside
functions, since a function-level import is still a dependency, usually one that hides a
circle) make a graph of rehab_net modules. Two things are asserted:

1. no circles between modules;
2. each module imports only from its own unit or a unit below it in ``LAYERS``.

What is wrong today is listed in ``KNOWN_CYCLES`` and ``KNOWN_UPWARD``, each entry commented.
The test fails when a new circle or upward import appears, and also when a known one is fixed
but still listed, so the lists only shrink.
"""
from __future__ import annotations

import ast
from pathlib import Path

import rehab_net

ROOT = Path(rehab_net.__file__).parent

# Bottom to top. A unit is a top-level module (``rehab_net.db`` -> "db") or a package
# (``rehab_net.auth.guard`` -> "auth"); "__init__" is the app factory ``rehab_net`` itself.
# Units in one set may import each other (but not in a circle).
LAYERS: list[tuple[str, set[str]]] = [
    ("infrastructure", {
        "access", "api", "clock", "config", "converters", "csvimport", "db", "downloads",
        "errors", "i18n", "listing", "masking", "messages", "migrate", "openapi", "policy",
        "protection", "redirects", "scheduler", "schemas", "spreadsheet", "states", "vocab",
        "workdays",
    }),
    # Facilities and regions; auth's users belong to facilities, so network sits below auth.
    ("network", {"network"}),
    # Who acts where: users, tokens, permissions, audit.
    ("auth", {"auth"}),
    ("people", {"people"}),
    # A certificate belongs to a person; referrals and above may read it.
    ("certificates", {"certificates"}),
    ("referrals", {"referrals"}),
    # Booking books accepted referrals.
    ("booking", {"booking"}),
    # The service catalogue compares attended appointments (booking) with its items' rules.
    ("catalogue", {"catalogue"}),
    # Planning reads referrals (the demand of a plan) and booking (placements and the places
    # the schedules offer: one capacity truth).
    ("planning", {"planning"}),
    # Coverage sits beside the reports: it writes its files with the reports' export, and the
    # quarterly report reads its rescue ledger (no module imports the other way round).
    ("reports", {"reports", "coverage"}),
    # The app edge: the factory (app, re-exported lazily by the package's __init__), the command
    # line (entry, which hands `solve` to the optimiser, and cli), the root pages and the
    # overview (they read every module), the RQ job (it builds the app) and the sample loader
    # (it drives people, referrals and booking through their operations).
    ("app edge", {"__init__", "app", "entry", "cli", "overview", "pages", "rq_entry",
                  "sample_activity"}),
]

# Circles that exist today (each a set of modules importing one another, directly or around):
# none left.
KNOWN_CYCLES: set[frozenset[str]] = set()

# Upward imports that exist today: (importing module, imported module). None are left; the
# set stays so a test can name one it must tolerate for a while, with a comment why.
KNOWN_UPWARD: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in ROOT.rglob("*.py")}


def import_graph() -> dict[str, set[str]]:
    """Module -> the rehab_net modules it imports (anywhere in its body)."""
    modules = _modules()
    names = set(modules)
    return {
        name: imports_in(path.read_text(encoding="utf-8"), name, path.name == "__init__.py", names)
        for name, path in modules.items()
    }


def imports_in(source: str, name: str, is_package: bool, modules: set[str]) -> set[str]:
    """The modules (of ``modules``) that the module ``name`` with this source imports."""
    package = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # "from rehab_net.people import models" imports the submodule.
            targets = [
                f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            # "import rehab_net.a.b" names a module; keep the longest known prefix.
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_of() -> dict[str, int]:
    return {u: rank for rank, (_, units) in enumerate(LAYERS) for u in units}


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.add(frozenset(component))
    return found


def upward_imports(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    rank = layer_of()
    return {
        (module, target)
        for module, targets in graph.items()
        for target in targets
        if rank[unit(target)] > rank[unit(module)]
    }


def test_every_unit_has_a_layer():
    units = {unit(module) for module in _modules()}
    missing = units - set(layer_of())
    assert not missing, f"place these in LAYERS of {__file__}: {sorted(missing)}"


def test_no_new_import_circles():
    found = cycles(import_graph())
    new = found - KNOWN_CYCLES
    assert not new, f"new import circles: {[sorted(c) for c in new]}"
    fixed = KNOWN_CYCLES - found
    assert not fixed, f"fixed, remove from KNOWN_CYCLES: {[sorted(c) for c in fixed]}"


def test_no_new_upward_imports():
    found = upward_imports(import_graph())
    new = found - KNOWN_UPWARD
    assert not new, f"imports up the order of LAYERS: {sorted(new)}"
    fixed = KNOWN_UPWARD - found
    assert not fixed, f"fixed, remove from KNOWN_UPWARD: {sorted(fixed)}"


def test_the_check_sees_function_level_and_relative_imports():
    """The check itself: an import inside a function counts (those are the ones hiding circles)."""
    modules = {"rehab_net", "rehab_net.a", "rehab_net.a.x", "rehab_net.a.y", "rehab_net.b"}
    source = (
        "import os\n"
        "from . import y\n"
        "def late():\n"
        "    from rehab_net.b import thing\n"
        "    import rehab_net.a.y.deep\n"
    )
    assert imports_in(source, "rehab_net.a.x", False, modules) == {"rehab_net.a.y", "rehab_net.b"}
    assert imports_in("from .. import b", "rehab_net.a", True, modules) == {"rehab_net.b"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == {frozenset("abc")}
    graph = {"rehab_net.db": {"rehab_net.auth"}, "rehab_net.auth": {"rehab_net.db"}}
    assert upward_imports(graph) == {("rehab_net.db", "rehab_net.auth")}
