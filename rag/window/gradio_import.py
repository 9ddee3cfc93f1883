"""Import gradio without regenerating its components' `.pyi` stubs on every import."""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

# gradio 6's `ComponentMeta` rewrites the `.pyi` stub of each of its ~81 components whenever gradio is
# imported (reading and `ast`-parsing every component's source: about 1.1 s of a 2.3 s import, on every
# `rag serve` start). The stubs only serve gradio's own developers' editors and the wheel ships them;
# no setting turns this off, and `gradio/__init__` imports every component, so the function is swapped
# for a no-op right after `gradio.component_meta` runs. If gradio changes, nothing is swapped.
MODULE = "gradio.component_meta"
FUNCTION = "create_or_modify_pyi"


def skip_stub_regeneration() -> None:
    """Make the next `import gradio` leave the component stubs alone (nothing if already imported)."""
    if MODULE not in sys.modules and not any(isinstance(f, _StubSkipper) for f in sys.meta_path):
        sys.meta_path.insert(0, _StubSkipper())


def _leave_stubs(*_args: object, **_kwargs: object) -> None:
    """Stands in for gradio's stub writer."""


class _StubSkipper(importlib.abc.MetaPathFinder):
    """Finds `gradio.component_meta` as the other finders would, with a loader that swaps the writer."""

    def find_spec(self, name: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if name != MODULE:
            return None
        sys.meta_path.remove(self)  # needed once
        for finder in sys.meta_path:
            spec = finder.find_spec(name, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None:
                if hasattr(spec.loader, "exec_module"):
                    spec.loader = _SwappingLoader(spec.loader)
                return spec
        return None


class _SwappingLoader(importlib.abc.Loader):
    """Runs the module with its own loader, then replaces the stub writer if it is still there."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        if callable(getattr(module, FUNCTION, None)):
            setattr(module, FUNCTION, _leave_stubs)

    def __getattr__(self, name: str) -> object:  # get_source, get_filename, ... of the real loader
        return getattr(self.loader, name)
