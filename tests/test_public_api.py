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

    code = (
        "import sys, flowmatch; "
        "print(sorted(m for m in ('networkx', 'jinja2', 'pydantic', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
    importlib.import_module("flowmatch.cli")


def test_tracking_is_public_and_the_cli_does_not_import_sqlalchemy_until_needed() -> None:
    """Case tracking is part of the public API; ``flowmatch match`` still starts without SQLAlchemy."""
    import subprocess
    import sys

    for name in ("CaseStatus", "CaseStore", "TrackingError", "TransitionError", "open_store", "validate_credit_code"):
        assert name in flowmatch.__all__
    assert issubclass(flowmatch.TransitionError, flowmatch.TrackingError)
    assert issubclass(flowmatch.TrackingError, flowmatch.FlowmatchError)
    code = (
        "import sys; from flowmatch.cli import main\n"
        "try:\n    main(['match', 'kind=road_bridge'])\nexcept SystemExit:\n    pass\n"
        "print('sqlalchemy' in sys.modules, 'alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False False"


def test_the_certificate_database_is_public_and_stats_does_not_import_sqlalchemy() -> None:
    """证照数据库 (issue 16): the look-up and its results are public; ``flowmatch stats`` counts the
    database's effect from the rule data alone, without SQLAlchemy."""
    import subprocess
    import sys

    for name in ("Certificate", "CertificateImport", "OnFile", "certificates_on_file"):
        assert name in flowmatch.__all__
    assert flowmatch.OnFile("m").usable
    code = (
        "import sys; from flowmatch.cli import main\n"
        "try:\n    main(['stats', '--json'])\nexcept SystemExit:\n    pass\n"
        "print('sqlalchemy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"
