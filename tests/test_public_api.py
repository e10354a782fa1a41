from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

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


# --- the pinned public API (issue 13) ----------------------------------------------------------------
PUBLIC = [
    "BatchReport",
    "CalendarError",
    "Candidate",
    "CaseStatus",
    "CaseStore",
    "Certificate",
    "CertificateImport",
    "CheckReport",
    "DiffReport",
    "FlowmatchError",
    "GraphSchedule",
    "Hit",
    "InputError",
    "MatchResult",
    "Matcher",
    "Notice",
    "NoticeFee",
    "NoticeMaterial",
    "NoticeStep",
    "OnFile",
    "Option",
    "OutputError",
    "OutputExistsError",
    "Outcome",
    "Problem",
    "Question",
    "ReadError",
    "RenderError",
    "RuleSet",
    "RuleSetError",
    "RuleSetInfo",
    "Schedule",
    "ScheduledStep",
    "TrackingError",
    "TransitionError",
    "UNSURE",
    "UnknownFlowchartError",
    "UnknownMaterialError",
    "UnknownStepError",
    "WorkCalendar",
    "__version__",
    "build_notice",
    "certificates_on_file",
    "check",
    "diff_rulesets",
    "load_as_of",
    "load_ruleset",
    "match",
    "next_question",
    "notice_schema",
    "open_store",
    "plan",
    "render_guide",
    "render_notice",
    "ruleset_for",
    "rulesets",
    "run_batch",
    "schedule",
    "schedule_graph",
    "search",
    "stats",
    "under_each",
    "validate_credit_code",
]


def test_all_is_exactly_the_documented_list() -> None:
    assert flowmatch.__all__ == sorted(PUBLIC)


def test_readme_library_section_lists_exactly_all() -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- public-api: begin -->", 1)[1].split("<!-- public-api: end -->", 1)[0]
    listed = re.findall(r"`([A-Za-z_]+)`", section)
    assert len(listed) == len(set(listed)), "a name is listed twice"
    assert sorted(listed) == flowmatch.__all__


def test_importing_a_module_never_replaces_a_public_function() -> None:
    import flowmatch.search
    import flowmatch.stats

    assert callable(flowmatch.search) and callable(flowmatch.stats)
    assert flowmatch.search.__module__ == "flowmatch.search"


def test_every_public_error_is_in_the_tree_and_drawn() -> None:
    from flowmatch import errors

    names = [n for n in flowmatch.__all__ if n.endswith("Error")]
    for name in names:
        cls = getattr(flowmatch, name)
        assert issubclass(cls, flowmatch.FlowmatchError), name
        assert name in (errors.__doc__ or ""), f"{name} is not drawn in the errors tree"


def test_lookups_raise_errors_of_the_tree() -> None:
    import pytest

    plan = flowmatch.schedule("F26")
    with pytest.raises(flowmatch.UnknownStepError, match="unknown step 'nope'; allowed: "):
        plan.step("nope")
    with pytest.raises(KeyError):  # still a KeyError for callers written before
        plan.step("nope")


def test_ruleset_is_keyword_only_in_public_functions() -> None:
    import inspect

    for name in flowmatch.__all__:
        obj = getattr(flowmatch, name)
        if not inspect.isfunction(obj):
            continue
        param = inspect.signature(obj).parameters.get("ruleset")
        if param is not None:
            assert param.kind is inspect.Parameter.KEYWORD_ONLY, name


def test_strict_mypy_on_a_script_using_only_the_public_api(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    import pytest

    if shutil.which("mypy") is None and importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (the [dev] extra)")
    script = tmp_path / "uses_flowmatch.py"
    script.write_text(
        "from __future__ import annotations\n"
        "import datetime as dt\n"
        "import flowmatch\n"
        "from flowmatch import FlowmatchError, MatchResult, Notice, Schedule, ScheduledStep\n\n"
        "def main() -> int:\n"
        "    rs: flowmatch.RuleSet = flowmatch.load_ruleset()\n"
        "    result: MatchResult = flowmatch.match({'kind': 'pipeline'}, ruleset=rs)\n"
        "    plan: Schedule = flowmatch.schedule(result.flowchart or 'F26', start=dt.date(2026, 3, 2), ruleset=rs)\n"
        "    first: ScheduledStep = plan.steps[0]\n"
        "    notice: Notice = flowmatch.build_notice({'kind': 'pipeline'}, ruleset=rs, start='2026-03-02')\n"
        "    text = flowmatch.render_notice(notice, 'md')\n"
        "    hits: list[flowmatch.Hit] = flowmatch.search('规划', ruleset=rs)\n"
        "    q = flowmatch.next_question({}, ruleset=rs)\n"
        "    graph: flowmatch.GraphSchedule = flowmatch.schedule_graph({'a': 1.0, 'b': 2.0}, {'b': ['a']})\n"
        "    schema: dict[str, object] = flowmatch.notice_schema()\n"
        "    try:\n"
        "        plan.step('nope')\n"
        "    except FlowmatchError as exc:\n"
        "        print(exc)\n"
        "    print(first.id, len(text), len(hits), q, graph.critical, len(schema), notice.steps[0].start)\n"
        "    return 0\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
