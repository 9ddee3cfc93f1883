"""Imports go one way: foundation -> store -> ingest -> retrieve -> answer -> pipeline -> faces; no cycles.

The store comes before ingest because it is the seam both paths share: indexing writes into it,
retrieval reads from it. Function-level imports count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

from rag.settings import PROJECT_ROOT

LAYERS = [  # module prefixes, lowest first; a module may import its own layer and the ones below
    ("rag.types", "rag.settings", "rag.errors", "rag.dates", "rag.sentences", "rag.embedding", "rag.minilm",
     "rag.progress", "rag.roles"),
    ("rag.store",),
    ("rag.ingest",),
    ("rag.retrieve",),
    ("rag.answer",),
    ("rag.serialize", "rag.pipeline", "rag.engine", "rag.lcel", "rag.uploads", "rag.eval",
     "rag.conversations", "rag.remote"),
    ("rag.cli", "rag.cli_options", "rag.api", "rag.window", "rag.__main__"),
]


def modules() -> dict[str, set[str]]:
    """Every module of the package and the rag modules it imports."""
    paths = {".".join(p.relative_to(PROJECT_ROOT).with_suffix("").parts).removesuffix(".__init__"): p
             for p in sorted((PROJECT_ROOT / "rag").rglob("*.py"))}
    return {name: set(_imports(path, paths)) for name, path in paths.items()}


def _imports(path: Path, known: dict):
    """The rag modules a file imports, wherever the import statement stands."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "rag")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "rag":
            for alias in node.names:  # `from rag.api import errors` imports the module rag.api.errors
                sub = f"{node.module}.{alias.name}"
                yield sub if sub in known else node.module


def layer(module: str) -> int:
    """The layer a module belongs to."""
    return next(i for i, prefixes in enumerate(LAYERS)
                if any(module == p or module.startswith(p + ".") for p in prefixes))


def test_every_import_points_down_or_sideways():
    upward = [(m, i) for m, imported in modules().items() for i in imported
              if layer(i) > layer(m)]
    assert upward == []


def test_the_window_does_not_import_the_api():
    """The server mounts the window, so rag.api imports rag.window; never the other way."""
    crossing = [(m, i) for m, imported in modules().items() for i in imported
                if m.startswith("rag.window") and i.startswith("rag.api")]
    assert crossing == []


def test_the_modules_import_each_other_without_cycles():
    graph = modules()
    state: dict[str, int] = {}
    cycles = []

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for i in sorted(graph.get(m, ())):
            if state.get(i) == 1:
                cycles.append([*trail[trail.index(i):], i] if i in trail else [m, i])
            elif i in graph and not state.get(i):
                visit(i, [*trail, i])
        state[m] = 2

    for m in graph:
        if not state.get(m):
            visit(m, [m])
    assert cycles == []
