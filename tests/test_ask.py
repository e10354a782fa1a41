"""``flowmatch ask`` without a terminal (answers file, typed lines) and ``flowmatch serve``'s checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flowmatch import cli_find
from flowmatch.cli import main
from flowmatch.ruleset import RuleSet

S10 = {
    "kind": "building",
    "land_nature": "state_owned",
    "investor": "enterprise",
    "acquisition": "tender_auction_listing",
    "regime": "filing",
    "building_use": "commercial_housing",
}


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, text: str, name: str = "answers.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- answers file ----------------------------------------------------------------------------------------
def test_answers_file_yaml(tmp_path: Path) -> None:
    answers = write(tmp_path, "\n".join(f"{k}: {v}" for k, v in S10.items()))
    code, out, _ = run("ask", "--answers", answers)
    assert code == 0
    assert "S10 招拍挂、出让·备案类·商品住宅及配建保障房" in out
    assert "用 --notice FILE 生成一次性告知书 / use --notice FILE to write the one-time notice" in out


def test_answers_on_stdin_as_json() -> None:
    code, out, _ = run("ask", "--answers", "-", "--json", input=json.dumps({"kind": "pipeline"}))
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "matched" and data["result"]["situation"] == "S32"
    assert data["answers"] == {"kind": "pipeline"} and data["notice"] is None


def test_answers_file_with_unsure_lists_candidates(tmp_path: Path) -> None:
    answers = write(tmp_path, json.dumps({**S10, "building_use": "unsure"}), "answers.json")
    code, out, _ = run("ask", "--answers", answers)
    assert code == 1
    assert "因“建设用途”不确定，以下 6 种结果都有可能：" in out
    assert "S10" in out and "S11" in out and "S12" in out
    assert "也可能不适用（NA07）" in out
    code, out, _ = run("ask", "--answers", answers, "--json")
    data = json.loads(out)
    assert data["status"] == "undetermined" and {c["rule"] for c in data["candidates"]} >= {"S10", "S11", "S12"}


def test_incomplete_answers_file_names_the_next_question(tmp_path: Path) -> None:
    answers = write(tmp_path, "kind: building\nland_nature: state_owned\n")
    code, out, _ = run("ask", "--answers", answers)
    assert code == 1
    assert out.startswith("还需回答 / still needed: ")
    code, out, _ = run("ask", "--answers", answers, "--json")
    data = json.loads(out)
    assert code == 1 and data["status"] == "incomplete" and data["question"]["type"] == "question"


def test_invalid_answers(tmp_path: Path) -> None:
    code, out, _ = run("ask", "--answers", write(tmp_path, "kind: castle\n"))
    assert code == 2
    assert "输入有误 invalid" in out
    assert "kind: unknown value 'castle'; allowed: building, road_bridge, pipeline, station" in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- kind\n", "must be a mapping of attribute to value, got list"),
        ("kind: [\n", "are not valid YAML or JSON (YAML syntax error:"),
        (
            "a: &a [x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            + "".join(f"c{i}: &c{i} [{', '.join(['*b' if i == 0 else f'*c{i - 1}'] * 10)}]\n" for i in range(6)),
            "(document expands to more than 200000 nodes",
        ),
    ],
)
def test_bad_answers_files(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    code, _, err = run("ask", "--answers", path)
    assert code == 2
    assert f"error: answers in {path}" in err and message in err


def test_missing_and_binary_answers_files(tmp_path: Path) -> None:
    code, _, err = run("ask", "--answers", str(tmp_path / "nope.yaml"))
    assert code == 2 and f"error: cannot read answers file '{tmp_path / 'nope.yaml'}'" in err
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    code, _, err = run("ask", "--answers", str(binary))
    assert code == 2 and f"error: answers file '{binary}' is not UTF-8 text" in err


def test_bad_start_date(tmp_path: Path) -> None:
    code, _, err = run("ask", "--answers", write(tmp_path, "kind: pipeline\n"), "--start", "someday")
    assert code == 2 and "error: start date 'someday' is not a date; allowed: YYYY-MM-DD" in err


# --- typed answers on standard input (no terminal) ---------------------------------------------------------
def test_typed_answers_with_numbers_values_and_labels() -> None:
    code, out, _ = run("ask", input="房屋建筑\ncollective\n6\n")
    assert code == 0
    assert "第 1 题：工程类别（Kind of works）" in out
    assert "S28 集体土地·乡（镇）村企业" in out


def test_typed_back_and_unsure() -> None:
    code, out, _ = run("ask", input="1\n2\n<\n1\n" + "?\n" * 8)
    assert code == 1
    assert out.count("第 2 题：土地性质") == 2, "going back asks question 2 again"
    assert "?. 不确定 / not sure    <. 返回上一题 / back" in out
    assert "以下" in out and "种结果都有可能" in out


def test_unrecognised_typed_answer_is_asked_again() -> None:
    code, out, _ = run("ask", input="xyz\n3\n")
    assert code == 0
    assert (
        "无法识别的回答 'xyz'；请输入编号 1–4、取值（building, road_bridge, pipeline, station）或 ? 表示不确定" in out
    )
    assert "S32" in out


def test_input_ending_early_is_an_error() -> None:
    code, _, err = run("ask", input="1\n")
    assert code == 2
    assert "error: input ended before question 'land_nature' (土地性质) was answered" in err


# --- the notice ------------------------------------------------------------------------------------------------
def test_notice_is_written_at_the_end(tmp_path: Path) -> None:
    pytest.importorskip("flowmatch.render")
    target = tmp_path / "notice.md"
    code, out, _ = run(
        "ask",
        "--answers",
        write(tmp_path, "kind: pipeline\n"),
        "--notice",
        str(target),
        "--name",
        "示例管线工程",
        "--start",
        "2026-03-02",
    )
    assert code == 0, out
    assert f"一次性告知书已写入 / notice written: {target}" in out
    text = target.read_text(encoding="utf-8")
    assert "示例管线工程" in text and "一次性告知书" in text
    assert not list(tmp_path.glob(".*.tmp")), "written atomically"


def test_notice_needs_a_matched_project(tmp_path: Path) -> None:
    answers = write(tmp_path, json.dumps({**S10, "building_use": "unsure"}))
    code, _, err = run("ask", "--answers", answers, "--notice", str(tmp_path / "n.html"))
    assert code == 2
    assert "error: a notice needs a matched project; this one is undetermined" in err


def test_notice_without_the_renderer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = cli_find.find_spec
    monkeypatch.setattr(cli_find, "find_spec", lambda name: None if name == "flowmatch.render" else real(name))
    code, _, err = run("ask", "--answers", write(tmp_path, "kind: pipeline\n"), "--notice", str(tmp_path / "n.html"))
    assert code == 1
    assert "error: writing the notice needs flowmatch.render, which this installation lacks" in err


# --- arrow-key menus (questionary), driven without a terminal ---------------------------------------------------
def test_menu_offers_unsure_and_back(ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    questionary = pytest.importorskip("questionary")
    from flowmatch.wizard import next_question

    seen: dict[str, Any] = {}

    class Prompt:
        def __init__(self, value: Any) -> None:
            self.value = value

        def ask(self) -> Any:
            return self.value

    def select(message: str, choices: list[Any], instruction: str | None = None) -> Prompt:
        seen["message"], seen["choices"], seen["instruction"] = message, choices, instruction
        return Prompt("<back>")

    monkeypatch.setattr(questionary, "select", select)
    question = next_question({"kind": "building"}, ruleset=ruleset)
    assert cli_find._menu(question, True) == "<back>"  # type: ignore[arg-type]
    titles = [c.title for c in seen["choices"]]
    assert seen["message"] == "土地性质（Land ownership）"
    assert seen["instruction"] == "建设用地属于国有土地还是农民集体所有的土地？"
    assert titles[-2:] == ["不确定 / not sure", "← 返回上一题 / back"]
    assert [c.value for c in seen["choices"]][:2] == ["state_owned", "collective"]


# --- serve ---------------------------------------------------------------------------------------------------------
def test_serve_without_the_web_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_find, "missing_web_extra", lambda: ["uvicorn"])
    code, _, err = run("serve")
    assert code == 1
    assert "error: flowmatch serve needs the web extra: pip install 'flowmatch[web]' (missing: uvicorn)" in err


def test_serve_binds_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("uvicorn")
    import uvicorn

    from flowmatch.web.serving import ENV, app_from_env

    monkeypatch.setenv(ENV, "{}")  # restored after the test: serve hands its settings to the workers here
    calls: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.update(kw, app=app))
    code, out, err = run("serve", "--port", "8123")
    assert code == 0
    assert calls["host"] == "127.0.0.1" and calls["port"] == 8123 and calls["workers"] == 1
    assert calls["app"] == "flowmatch.web.serving:app_from_env" and calls["factory"] is True
    app = app_from_env()
    assert app.allowed_hosts is not None and "localhost" in app.allowed_hosts and app.store is None
    assert "flowmatch: http://127.0.0.1:8123/" in out and err == ""
    code, _, err = run("serve", "--host", "0.0.0.0", "--allowed-host", "approvals.example")
    assert calls["host"] == "0.0.0.0" and app_from_env().allowed_hosts == {"approvals.example"}
    assert "warning: serving on 0.0.0.0: the questionnaire is reachable from other machines" in err


def test_serve_with_a_case_database_and_workers(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    pytest.importorskip("uvicorn")
    import uvicorn

    from flowmatch.web.serving import ENV, app_from_env

    monkeypatch.setenv(ENV, "{}")
    calls: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.update(kw, app=app))
    code, _, err = run("serve", "--workers", "2", "--db", f"sqlite:///{tmp_path / 'c.sqlite'}")
    assert code == 2 and "--workers above 1 needs --db postgresql+psycopg://... (SQLite is for one process)" in err
    code, _, _ = run("serve", "--db", f"sqlite:///{tmp_path / 'c.sqlite'}")
    assert code == 0 and app_from_env().store is not None


def test_typed_questionnaire_marks_options_that_lead_nowhere() -> None:
    code, out, _ = run("ask", input="房屋建筑\ncollective\n6\n")
    assert code == 0
    assert "  4. 工业仓储（industrial）  ⚠ 按已答情况，选此项没有适用的审批流程" in out
    assert "  6. 乡镇企业（township_enterprise）\n" in out
