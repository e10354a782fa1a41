"""The notice as one core value (issue 13): the library, ``flowmatch guide`` and the web page
``/notice`` give the same notice; the notice as data validates against the shipped JSON Schema."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import flowmatch
from flowmatch.cli import main
from flowmatch.errors import InputError, RenderError
from flowmatch.golden import GOLDEN, golden_notice
from flowmatch.notice import Notice, build_notice, generated_schema, notice_schema, render, schema_path
from flowmatch.ruleset import RuleSet

jsonschema = pytest.importorskip("jsonschema")

START = "2026-03-02"
NAME = "示例项目"
MORE = [  # a few more profiles beside the golden ones: flags, commitment, completion steps
    (
        {
            "kind": "building",
            "land_nature": "collective",
            "building_use": "township_enterprise",
            "removes_trees": "true",
        },
        {},
    ),
    ({"kind": "pipeline"}, {"commitment": True}),
    ({"kind": "road_bridge", "land_nature": "collective", "management": "self_built"}, {"on_file": ()}),
]


def _validate(data: Any) -> None:
    jsonschema.Draft202012Validator(notice_schema()).validate(data)


def test_the_shipped_schema_is_the_one_the_model_generates() -> None:
    assert notice_schema() == json.loads(json.dumps(generated_schema())), (
        "regenerate src/flowmatch/schemas/notice.schema.json from flowmatch.notice.generated_schema()"
    )
    jsonschema.Draft202012Validator.check_schema(notice_schema())


def test_flowmatch_schema_notice_prints_it() -> None:
    result = CliRunner().invoke(main, ["schema", "notice"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == notice_schema()
    assert result.stdout == schema_path().read_text(encoding="utf-8")


@pytest.mark.parametrize("fid", sorted(GOLDEN))
def test_every_golden_notice_validates(fid: str, ruleset: RuleSet) -> None:
    notice = golden_notice(fid, ruleset)
    data = json.loads(render(notice, "json"))
    _validate(data)
    assert data["flowchart"]["id"] == fid
    assert Notice.model_validate_json(render(notice, "json")).model_dump() == notice.model_dump()  # round-trips


@pytest.mark.parametrize(("profile", "options"), MORE)
def test_more_notices_validate(profile: dict[str, Any], options: dict[str, Any], ruleset: RuleSet) -> None:
    notice = build_notice(profile, ruleset=ruleset, start=START, **options)
    _validate(json.loads(render(notice, "json")))


def test_notice_data_says_what_the_notice_says(ruleset: RuleSet) -> None:
    notice = golden_notice("F22", ruleset)
    numbers = [s.number for s in (*notice.steps, *notice.completion)]
    assert numbers == list(range(1, len(numbers) + 1))
    ids = {s.id: s for s in (*notice.steps, *notice.completion)}
    for m in notice.materials:  # where each material is first used: the lowest-numbered step asking it
        assert m.first_used in m.steps
        assert ids[m.first_used].number == min(ids[s].number for s in m.steps)
        assert m.id in ids[m.first_used].materials
    assert all(s.start is not None and s.end is not None for s in notice.steps)
    assert notice.start == dt.date(2026, 3, 2) and notice.flowchart.id == "F22"
    assert notice.step(notice.steps[0].id) == notice.steps[0]
    with pytest.raises(InputError, match="the notice has no step 'nope'; allowed: "):
        notice.step("nope")


def test_estimated_marks_follow_the_calendar(ruleset: RuleSet) -> None:
    notice = build_notice({"kind": "pipeline"}, ruleset=ruleset, start="2030-12-02")  # past the official data
    assert notice.estimated_from is not None
    assert any(s.estimated for s in notice.steps)
    assert all(s.estimated == (s.end is not None and s.end >= notice.estimated_from) for s in notice.steps)
    assert notice.warnings


def test_a_notice_read_back_from_json_renders_as_json_only(ruleset: RuleSet) -> None:
    notice = Notice.model_validate_json(render(golden_notice("F26", ruleset), "json"))
    assert render(notice, "json") == render(golden_notice("F26", ruleset), "json")
    with pytest.raises(RenderError, match="this notice was read back from data and carries no rule-set"):
        render(notice, "html")


def test_unknown_format_lists_the_allowed(ruleset: RuleSet) -> None:
    with pytest.raises(InputError, match="unknown format 'docx'; allowed: html, md, pdf, json"):
        render(golden_notice("F26", ruleset), "docx")


def test_an_unmatched_profile_says_what_is_missing(ruleset: RuleSet) -> None:
    with pytest.raises(InputError, match="the profile is incomplete; still needed: "):
        build_notice({"kind": "building"}, ruleset=ruleset, start=START)


# --- parity: library, CLI and web give the same notice -----------------------------------------------
def _cli(rules: Path, profile: dict[str, Any], fmt: str) -> str:
    pairs = [f"{k}={v}" for k, v in profile.items()]
    result = CliRunner().invoke(
        main, ["guide", "--rules", str(rules), *pairs, "--start", START, "--name", NAME, "--format", fmt]
    )
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _web(ruleset: RuleSet, profile: dict[str, Any], fmt: str) -> str:
    testclient = pytest.importorskip("starlette.testclient")
    from flowmatch.web import create_app

    with testclient.TestClient(create_app(ruleset)) as client:
        response = client.get("/notice", params={**profile, "start": START, "name": NAME, "format": fmt})
    assert response.status_code == 200, response.text
    if fmt == "html":  # the page puts its toolbar and icon around the notice; the notice itself is the same
        import re

        text = re.sub(r'<link rel="icon"[^>]*>\n', "", response.text)
        return re.sub(r"<body>\n<style>.*?</nav>", "<body>", text, count=1, flags=re.S)
    return response.text


@pytest.mark.parametrize("fid", sorted(GOLDEN))
def test_library_cli_and_web_give_the_same_notice(fid: str, ruleset: RuleSet) -> None:
    profile = dict(GOLDEN[fid])
    notice = flowmatch.build_notice(profile, ruleset=ruleset, start=START, name=NAME)
    for fmt in ("md", "html", "json"):
        library = flowmatch.render_notice(notice, fmt)
        assert isinstance(library, str)
        assert _cli(ruleset.path, profile, fmt) == library, f"CLI {fmt} differs"
        if fmt != "json":  # the web page offers the printable formats
            assert _web(ruleset, profile, fmt) == library, f"web {fmt} differs"


def test_guide_json_validates_against_flowmatch_schema_notice(ruleset: RuleSet) -> None:
    out = _cli(ruleset.path, dict(GOLDEN["F10"]), "json")
    schema = json.loads(CliRunner().invoke(main, ["schema", "notice"]).stdout)
    jsonschema.Draft202012Validator(schema).validate(json.loads(out))


def test_batch_reads_json_lines_and_writes_json(ruleset: RuleSet, tmp_path: Path) -> None:
    batch = tmp_path / "projects.jsonl"
    batch.write_text(
        json.dumps({"id": "p1", "start": START, **GOLDEN["F26"]}, ensure_ascii=False) + "\n" + "not json\n",
        encoding="utf-8",
    )
    report = flowmatch.run_batch(batch, tmp_path / "out", "json", rules=ruleset.path, jobs=1)
    assert [r["id"] for r in report.written] == ["p1"]
    assert report.failed[0]["error"].startswith("line 2 is not JSON")
    _validate(json.loads((tmp_path / "out" / "p1.json").read_text(encoding="utf-8")))


# --- one label table ---------------------------------------------------------------------------------
def test_notice_and_web_pages_use_the_same_words() -> None:
    from flowmatch.labels import LIMIT_UNIT_LABELS, SOURCE_LABELS
    from flowmatch.materials import SOURCE_LABELS as material_sources
    from flowmatch.web.i18n import TEXT

    assert material_sources is SOURCE_LABELS
    assert TEXT["source_department"][0] == SOURCE_LABELS["department"] == "有关部门出具"
    assert TEXT["unit_on_the_spot"][0] == LIMIT_UNIT_LABELS["on_the_spot"] == "即时办结"


@pytest.mark.parametrize(
    ("query", "lang"),
    [
        (b"lang=en", "en"),
        (b"kind=building&lang=en", "en"),
        (b"name=lang%3Den", "zh"),
        (b"xlang=en", "zh"),
        (b"lang=en&lang=zh", "zh"),
        (b"lang=fr", "zh"),
        (b"", "zh"),
    ],
)
def test_web_language_comes_from_the_parsed_query(query: bytes, lang: str) -> None:
    from flowmatch.web.i18n import lang_of

    assert lang_of(query) == lang


def test_no_face_builds_a_notice_or_runs_a_batch_itself() -> None:
    """The faces call flowmatch.notice / flowmatch.batch; the pipeline exists once (issue 13)."""
    src = Path(flowmatch.__file__).resolve().parent
    faces = [
        src / "cli.py",
        src / "cli_guide.py",
        src / "cli_find.py",
        src / "cli_diff.py",
        *(src / "web").glob("*.py"),
    ]
    for face in faces:
        text = face.read_text(encoding="utf-8")
        for pipeline in (
            "render_guide(",
            "build_context(",
            "ProcessPoolExecutor",
            "os.replace(",
            "def read_batch",
            "def run_batch",
            "def parse_start",
        ):
            assert pipeline not in text, f"{face.name} has {pipeline}"
