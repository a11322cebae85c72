"""Commit once, at the edge (issue 13): only ``rehab_net/db.py`` (its ``transactional``) calls
``.commit()``. Views, pages, CLI commands, jobs and the worker end their transactions through
``transactional``; operations only flush.

The check parses every module with ``ast``, so a commit in a comment or string does not count and
every spelling of the call does (``session.commit()``, ``get_session().commit()``, ``s.commit()``).
"""
from __future__ import annotations

import ast
from pathlib import Path

import rehab_net

ROOT = Path(rehab_net.__file__).parent
# Modules that may commit. Nothing but the transaction helper itself.
ALLOWED = {"db.py"}


def commit_calls(source: str) -> list[int]:
    """Line numbers of every ``<anything>.commit(...)`` call in source."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "commit"]


def test_commits_only_in_db():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in ALLOWED:
            continue
        found += [f"{name}:{line}" for line in commit_calls(path.read_text(encoding="utf-8"))]
    assert not found, ("commit outside db.transactional (use it as a decorator or a with "
                       f"block): {found}")


def test_the_check_sees_every_spelling():
    source = ("def f(session):\n"
              "    session.commit()  # a comment: commit()\n"
              "    get_session().commit()\n"
              "    x = 'session.commit()'\n")
    assert commit_calls(source) == [2, 3]
