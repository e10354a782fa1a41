"""Every problem in the YAML is reported at once as file:line:col: key.path: problem; allowed: ..."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmatch.errors import RuleSetError
from flowmatch.ruleset import RuleSet, load_ruleset


def _problems(root: Path) -> list[str]:
    with pytest.raises(RuleSetError) as err:
        load_ruleset(root, cache=False)
    return [str(p) for p in err.value.problems]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_packaged_ruleset_loads(ruleset: RuleSet) -> None:
    assert len(ruleset.situations) == 33
    assert len(ruleset.flowcharts) == 27
    assert ruleset.manifest.service_centre.hotline == "12345"


def test_unknown_key_names_file_line_and_allowed_keys(rules_copy: Path) -> None:
    _edit(rules_copy / "attributes.yaml", "    label: 工程类别\n", "    label: 工程类别\n    lable: typo\n")
    assert _problems(rules_copy) == [
        "harbin-2014/attributes.yaml:7:5: attributes.kind.lable: unknown key 'lable'; "
        "allowed: label, gloss, help, help_en, asked_when, values"
    ]


def test_duplicate_key_is_rejected(rules_copy: Path) -> None:
    _edit(rules_copy / "attributes.yaml", "    label: 工程类别\n", "    label: 工程类别\n    label: again\n")
    assert _problems(rules_copy) == [
        "harbin-2014/attributes.yaml:7:5: attributes.kind.label: duplicate key 'label' (first defined at line 6)"
    ]


def test_all_problems_reported_together(rules_copy: Path) -> None:
    sit = rules_copy / "situations.yaml"
    _edit(sit, "    flowchart: F01\n", "    flowchart: F99\n")
    _edit(sit, "eq: {kind: road_bridge}", "eq: {kind: road_brigde}")
    _edit(
        sit,
        "          building_use: [commercial_housing, affordable_housing]\n",
        "          building_use: [commercial_housing, affordable_housing]\n          colour: [red]\n",
    )
    problems = _problems(rules_copy)
    assert len(problems) == 3
    assert problems[0].startswith("harbin-2014/situations.yaml:")
    assert any(
        p.endswith(
            "situations.S01.flowchart: unknown flowchart 'F99'; allowed: F01, F02, F03, F04, F05, F06, "
            "F07, F08, F09, F10, F11, F12, F13, F14, F15, F16, F17, F18, F19, F20, F21, F22, F23, F24, "
            "F25, F26, F27"
        )
        for p in problems
    )
    assert any(
        p.endswith(
            "situations.S31.when.eq.kind: unknown value 'road_brigde' of kind; "
            "allowed: building, road_bridge, pipeline, station"
        )
        for p in problems
    )
    assert any(
        "situations.S10.when.all[4].in.colour: unknown attribute 'colour'; allowed: kind, land_nature," in p
        for p in problems
    )


def test_condition_operator_outside_the_vocabulary(rules_copy: Path) -> None:
    _edit(rules_copy / "situations.yaml", "eq: {kind: road_bridge}", "equals: {kind: road_bridge}")
    (problem,) = _problems(rules_copy)
    assert problem.endswith("situations.S31.when.equals: unknown operator 'equals'; allowed: all, any, not, eq, in")


def test_expression_strings_are_not_conditions(rules_copy: Path) -> None:
    _edit(rules_copy / "situations.yaml", "    when:\n      eq: {kind: road_bridge}", "    when: kind == 'road_bridge'")
    (problem,) = _problems(rules_copy)
    assert problem.endswith(
        "situations.S31.when: a condition is a mapping with exactly one operator; allowed: all, any, not, eq, in"
    )


def test_step_dependency_cycle_is_named(rules_copy: Path) -> None:
    flow = rules_copy / "flowcharts" / "F99.yaml"
    flow.write_text(
        "name: 测试\nname_en: test\ncategory: infrastructure\nsource: [seed003]\nsteps:\n"
        "  a: {item: ZJ07, depends_on: [c]}\n  b: {item: ZJ07, depends_on: [a]}\n  c: {item: ZJ07, depends_on: [b]}\n"
        "  d: {item: ZJ07, depends_on: [nowhere]}\n",
        encoding="utf-8",
    )
    problems = _problems(rules_copy)
    assert "harbin-2014/flowcharts/F99.yaml:6:19: steps.a.depends_on: steps form a cycle: a → c → b → a" in problems
    assert any(
        p.startswith(
            "harbin-2014/flowcharts/F99.yaml:9:32: steps.d.depends_on[0]: unknown step 'nowhere'; allowed: a, b, c, d"
        )
        for p in problems
    )


def test_yaml_syntax_error(rules_copy: Path) -> None:
    (rules_copy / "invariants.yaml").write_text("x: {description: [unclosed\n", encoding="utf-8")
    (problem,) = _problems(rules_copy)
    assert problem.startswith("harbin-2014/invariants.yaml:2:1: YAML syntax error:")


def test_non_utf8_and_empty_files(rules_copy: Path) -> None:
    (rules_copy / "items.yaml").write_bytes("a: 施工".encode("gbk"))
    (rules_copy / "materials.yaml").write_text("# nothing here\n", encoding="utf-8")
    problems = _problems(rules_copy)
    assert "harbin-2014/items.yaml:1:5: file is not valid UTF-8; save it as UTF-8" in problems
    assert "harbin-2014/materials.yaml:1:1: file is empty; expected a YAML mapping" in problems


def test_object_tags_are_refused(rules_copy: Path) -> None:
    (rules_copy / "invariants.yaml").write_text("x: !!python/object/apply:os.system ['echo hi']\n", encoding="utf-8")
    (problem,) = _problems(rules_copy)
    assert problem == (
        "harbin-2014/invariants.yaml:1:4: x: tag 'tag:yaml.org,2002:python/object/apply:os.system' "
        "is not allowed; allowed: plain YAML maps, lists and scalars"
    )


def test_billion_laughs_is_refused_quickly(rules_copy: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]"
        for i in range(1, 9)
    ]
    (rules_copy / "invariants.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (problem,) = _problems(rules_copy)
    assert "document expands to more than 200000 nodes (alias expansion or size limit)" in problem


def test_missing_file(rules_copy: Path) -> None:
    (rules_copy / "items.yaml").unlink()
    assert "harbin-2014/items.yaml:1:1: required file is missing" in _problems(rules_copy)


def test_not_a_ruleset_directory(tmp_path: Path) -> None:
    with pytest.raises(RuleSetError, match=r"not a rule-set directory: ruleset\.yaml is missing"):
        load_ruleset(tmp_path, cache=False)


def test_cache_is_used_and_never_stale(rules_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWMATCH_CACHE_DIR", str(tmp_path / "c"))
    first = load_ruleset(rules_copy)
    assert list((tmp_path / "c").glob("*.pickle"))
    second = load_ruleset(rules_copy)
    assert second.digest == first.digest and second.situations.keys() == first.situations.keys()
    _edit(rules_copy / "situations.yaml", "    name: 政府投资·新增划拨用地·自建\n", "    name: 改过的名字\n")
    third = load_ruleset(rules_copy)
    assert third.situations["S01"].name == "改过的名字"
    for f in (tmp_path / "c").glob("*.pickle"):
        f.write_bytes(b"corrupt")
    assert load_ruleset(rules_copy).situations["S01"].name == "改过的名字"
