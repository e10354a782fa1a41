from __future__ import annotations

import importlib

import flowmatch


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert flowmatch.__all__ == sorted(flowmatch.__all__)
    for name in flowmatch.__all__:
        assert getattr(flowmatch, name) is not None, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        flowmatch.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert str(exc) == "module 'flowmatch' has no attribute 'no_such_thing'"
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_import_is_light() -> None:
    """Importing the package must not import the heavy modules (fast CLI start)."""
    import subprocess
    import sys

    code = "import sys, flowmatch; print(sorted(m for m in ('networkx', 'jinja2', 'pydantic') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
    importlib.import_module("flowmatch.cli")
