"""The API reference builds with Sphinx from the docstrings, warning-free, and is complete.

The build is the one in the README (``python -m sphinx -W --keep-going -b html docs ...``),
run once per session into a temporary directory. Every name in ``azurecr.__all__`` and
``azurecr.aio.__all__``, and every public member those classes define, must reach the
HTML, so a new public name the reference misses fails here.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import azurecr
import azurecr.aio

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Build the reference (warnings are errors) and return all its HTML, concatenated."""
    out = tmp_path_factory.mktemp("docs") / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(DOCS), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"sphinx build failed (exit {proc.returncode}):\n{proc.stderr}\n{proc.stdout}"
    )
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(out.glob("*.html")))


def _public_members(cls: type) -> set[str]:
    """Public names a class (or its azurecr bases, e.g. ``_Model``) defines itself."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] == "azurecr":
            names.update(n for n in vars(klass) if not n.startswith("_"))
    return names


def _expected_ids(module: ModuleType) -> set[str]:
    ids = set()
    for name in module.__all__:
        ids.add(f"{module.__name__}.{name}")
        obj = getattr(module, name)
        if inspect.isclass(obj):
            ids.update(f"{module.__name__}.{name}.{member}" for member in _public_members(obj))
    return ids


def test_docs_build_without_warnings(html: str) -> None:
    assert 'id="azurecr.ContainerRegistryClient"' in html


@pytest.mark.parametrize("module", [azurecr, azurecr.aio], ids=lambda m: m.__name__)
def test_every_public_name_is_documented(html: str, module: ModuleType) -> None:
    missing = sorted(i for i in _expected_ids(module) if f'id="{i}"' not in html)
    assert not missing, f"public names missing from the API reference: {missing}"
