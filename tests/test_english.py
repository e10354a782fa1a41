"""Issue 17, English: every domain word of the packaged rule-sets has an English name, and the
English web pages show it (no Chinese left in the parts built from those names)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from flowmatch.ruleset import RuleSet, default_rules_path, load_ruleset
from flowmatch.web import create_app

HAN = re.compile(r"[\u3400-\u9fff]")
RULES = default_rules_path().parent


@pytest.fixture(scope="module", params=["harbin-2014", "harbin-2019"])
def packaged(request: pytest.FixtureRequest) -> RuleSet:
    path = Path(RULES / request.param)
    return load_ruleset(path, cache=False)


def test_every_domain_word_has_an_english_name(packaged: RuleSet) -> None:
    named = {
        "material": {k: m.name_en for k, m in packaged.materials.items()},
        "item": {k: i.name_en for k, i in packaged.items.items()},
        "department": {k: d.name_en for k, d in packaged.departments.items()},
        "situation": {k: s.name_en for k, s in packaged.situations.items()},
        "flowchart": {k: f.name_en for k, f in packaged.flowcharts.items()},
    }
    missing = [f"{kind} {k}" for kind, names in named.items() for k, v in names.items() if not v]
    assert not missing, missing
    # the official Chinese term may stand beside its translation, in brackets: "filing (备案)"
    chinese = [
        f"{kind} {k}: {v}"
        for kind, names in named.items()
        for k, v in names.items()
        if v and HAN.search(re.sub(r"\([^)]*\)", "", v))
    ]
    assert not chinese, chinese


def test_english_material_pages_and_result_summary(ruleset: RuleSet) -> None:
    client = TestClient(create_app(ruleset))
    page = client.get("/material/transfer_contract?lang=en")
    h1 = page.text.split("<h1>")[1].split("</h1>")[0]
    assert h1 == "Contract for the transfer of state-owned construction land-use rights"
    result = client.get("/ask?kind=building&land_nature=collective&building_use=township_enterprise&lang=en")
    prepare = result.text.split('id="to-prepare">')[1].split("</dd>")[0]
    assert not HAN.search(prepare), prepare
