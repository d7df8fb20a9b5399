"""Sphinx configuration for the azurecr API reference.

Build (warnings are errors; ``tests/test_docs.py`` runs the same build)::

    .venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html

No extension here needs the network: intersphinx is deliberately left out, and
references to types we do not document (azure.core, the standard library) stay
plain text (``nitpicky`` is off).
"""

from __future__ import annotations

import inspect
import os
import sys

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(_ROOT, "src"))

from azurecr._version import VERSION  # noqa: E402

project = "azurecr"
author = "azurecr contributors"
copyright = "azurecr contributors"
version = release = VERSION

extensions = ["sphinx.ext.autodoc"]

# Every name in ``azurecr.__all__`` / ``azurecr.aio.__all__`` is documented by
# ``automodule`` with ``:members:`` (autodoc follows ``__all__``, including the
# re-exported names), so a new public name shows up without editing the docs;
# tests/test_docs.py checks that each one reached the HTML.
autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "show-inheritance": True,
    # Members inherited from our own private bases (``_Model.from_json``/``to_json``,
    # the ``_Writeable`` flags) are part of the public classes; members inherited from
    # the standard library or azure-core are skipped by ``_skip_foreign`` below (their
    # docstrings are not ours and are not written for this reference).
    "inherited-members": True,
}
autodoc_member_order = "groupwise"
autodoc_class_signature = "mixed"
autodoc_preserve_defaults = True
autoclass_content = "class"

exclude_patterns = ["_build"]
html_theme = "alabaster"
html_title = f"azurecr {release}"
html_static_path: list[str] = []


def _home_module(obj: object) -> str | None:
    """The module that defines a class member's code; None for data (enum values,
    NamedTuple fields, slots of our classes), which belongs to the class that has it."""
    if isinstance(obj, (classmethod, staticmethod)):
        obj = obj.__func__
    fget = getattr(obj, "fget", None)  # property, enum's name/value
    if fget is not None:
        obj = fget
    owner = getattr(obj, "__objclass__", None)  # slot, getset and C method descriptors
    if owner is not None:
        return getattr(owner, "__module__", None)
    if inspect.isroutine(obj):
        return getattr(obj, "__module__", None) or "builtins"
    return None


def _skip_foreign(app: object, what: str, name: str, obj: object, skip: bool, options: object):
    """Skip class members that come from outside azurecr (str, Enum, Exception, azure-core)."""
    if what in ("class", "exception"):
        home = _home_module(obj)
        if home is not None and not (home == "azurecr" or home.startswith("azurecr.")):
            return True
    return None


def _public_bases(app: object, name: str, obj: object, options: object, bases: list) -> None:
    """Show a private base (``_Model``, ``_Writeable``) as the public bases behind it."""
    resolved: list = []

    def add(base: type) -> None:
        if base.__name__.startswith("_"):
            for parent in base.__bases__:
                add(parent)
        elif base not in resolved:
            resolved.append(base)

    for base in bases:
        add(base)
    bases[:] = resolved


def setup(app):  # type: ignore[no-untyped-def]
    app.connect("autodoc-skip-member", _skip_foreign)
    app.connect("autodoc-process-bases", _public_bases)
    return {"parallel_read_safe": True}
