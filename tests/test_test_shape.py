"""The suite's own shape: a test module never imports another test module (shared worlds live in
fixture modules registered in conftest.py, shared helpers in plain modules such as factories.py),
so moving or renaming a test file breaks nothing else."""
from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _is_test_module(dotted: str) -> bool:
    return dotted.split(".")[-1].startswith("test_")


def imported_test_modules(source: str) -> list[str]:
    """The test modules (a last part starting test_) that ``source`` imports, at any depth."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if _is_test_module(a.name)]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module and _is_test_module(module):
                found.append(module)
            elif node.level or module == "tests" or module.startswith("tests."):
                found += [f"{module}.{a.name}" for a in node.names if _is_test_module(a.name)]
    return found


def test_the_check_sees_every_form_of_import():
    assert imported_test_modules("from tests.test_referrals import drive") == \
        ["tests.test_referrals"]
    assert imported_test_modules("def f():\n    import tests.solver.test_io") == \
        ["tests.solver.test_io"]
    assert imported_test_modules("from tests import test_booking") == ["tests.test_booking"]
    assert imported_test_modules("from .test_io import x") == ["test_io"]
    assert imported_test_modules("from tests.factories import create_user") == []


def test_no_test_module_imports_another():
    offenders = {str(path.relative_to(TESTS)): got
                 for path in sorted(TESTS.rglob("test_*.py"))
                 if (got := imported_test_modules(path.read_text(encoding="utf-8")))}
    assert offenders == {}


def test_test_folders_mirror_the_packages():
    """tests/<package>/ holds the tests of rehab_net/<package>/ (solver/ those of the optimiser,
    browser/ the real-browser tests); app-wide and infrastructure tests stay in tests/. A test of
    a package is not left beside them."""
    import rehab_net

    packages = {p.parent.name for p in Path(rehab_net.__file__).parent.glob("*/__init__.py")}
    folders = {p.parent.name for p in TESTS.glob("*/test_*.py")}
    assert folders <= packages | {"solver", "browser"}, folders - packages
    strays = [p.name for p in TESTS.glob("test_*.py")
              if any(p.stem.startswith(f"test_{name}") for name in folders - {"browser"})]
    assert strays == [], f"move these into their package's folder: {strays}"
