"""The certificate database (证照数据库, issue 16) on both databases: filled by done steps and imports,
looked up for the next notice, expired and revoked certificates asked again, the CLI faces."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from flowmatch.cli import main
from flowmatch.errors import InputError, RuleSetError, TrackingError
from flowmatch.flows import for_situation
from flowmatch.matcher import matcher_for
from flowmatch.materials import OnFile, consolidate
from flowmatch.render import render_guide
from flowmatch.ruleset import RuleSet, default_rules_path, load_ruleset
from flowmatch.scheduler import schedule
from flowmatch.tracking import CaseStore, certificates_on_file, open_store
from flowmatch.tracking.schema import Event

from .conftest import CREDIT, F10

WALK = ("accept", "handle", "review", "approve", "complete")
OTHER = "91110000600037341L"  # another valid 统一社会信用代码
S28 = {"kind": "building", "land_nature": "collective", "building_use": "township_enterprise"}  # F22
D = dt.date


def finish_f10(store: CaseStore) -> str:
    day = D(2026, 2, 10)
    number = store.open_case(F10, applicant="哈东置业有限公司", credit_code=CREDIT, at=day, by="窗口01").number
    for _ in range(100):
        status = store.status(number, as_of=day)
        if status.state != "open":
            return number
        for step in status.ready:
            for event in WALK:
                store.record(number, step, event, by="承办人", at=dt.datetime.combine(day, dt.time(10)))
        day += dt.timedelta(days=1)
    raise AssertionError("the case did not finish")


def notice_for(rs: RuleSet, profile: dict[str, object], on_file: object, start: dt.date, fmt: str = "md") -> str:
    result = matcher_for(rs).match(profile)
    flow = for_situation(rs, result.situation or "", profile=profile)
    plan = schedule(flow, start, ruleset=rs)
    text = render_guide(result, plan, fmt, ruleset=rs, on_file=on_file, generated=start)  # type: ignore[arg-type]
    assert isinstance(text, str)
    return text


def test_a_done_case_fills_the_database_and_the_next_notice_asks_none_of_it(
    store: CaseStore, ruleset: RuleSet, db_url: str
) -> None:
    number = finish_f10(store)
    held = store.certificates(CREDIT)
    by_material = {c.material: c for c in held}
    # every certificate came from a done step of the case, from a connected department
    connected = set(ruleset.certificates.connected)  # type: ignore[union-attr]
    assert held and all(c.case_number == number and c.origin == "case" and c.issuer in connected for c in held)
    assert by_material["works_planning_permit"].number == f"{number}/works_planning_permit"
    # a certificate of a department that is not connected (审图机构) is not held
    assert "drawing_review_certificate" not in by_material
    # on the audit trail, in the chain, one event per certificate
    with store.engine.connect() as conn:
        notes = [e.note for e in conn.execute(select(Event).where(Event.what == "certificate"))]
    assert len(notes) == len(held) and all(n.startswith("证照入库：") for n in notes)
    assert store.verify().ok

    # the next project of the same applicant: F22 asks the planning permit and the scheme approval
    day = D(2026, 3, 2)
    on_file = certificates_on_file(CREDIT, as_of=day, db=db_url, ruleset=ruleset)
    flow = for_situation(ruleset, "S28", profile=S28)
    mats = consolidate(flow, ruleset, on_file=on_file)
    asked = {m.id for m in mats.to_prepare}
    asked_without = {m.id for m in consolidate(flow, ruleset).to_prepare}
    produced = set(by_material)
    assert produced & asked_without, "the test needs a next flow that would ask a certificate"
    assert not produced & asked
    assert {m.id: m.certificate for m in mats.on_file} == {m: by_material[m].number for m in produced & asked_without}
    text = notice_for(ruleset, S28, on_file, day)
    line = next(x for x in text.splitlines() if "建设工程设计方案审定意见" in x and "证照库" in x)
    assert f"已在证照库中，无需提交（证照编号 {number}/design_review）" in line


def test_an_expired_certificate_is_asked_again_with_the_reason(
    store: CaseStore, ruleset: RuleSet, tmp_path: Path
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        f"credit_code,material,number,issued,expires\n{CREDIT},scheme_approval,哈规审2026-8,2026-01-05,2026-06-30\n"
    )
    assert store.import_certificates(path, at="2026-01-06", by="w").imported == 1
    reason = "证照库中的证照（编号 哈规审2026-8）已于2026-06-30过期，请重新提交"
    # the last valid day it still serves; the day after it is asked again, with the reason
    assert store.on_file(CREDIT, as_of="2026-06-30") == (OnFile("scheme_approval", "哈规审2026-8", "ghj"),)
    on_file = store.on_file(CREDIT, as_of="2026-07-01")
    assert on_file == (OnFile("scheme_approval", "哈规审2026-8", "ghj", reason),)
    flow = for_situation(ruleset, "S28", profile=S28)
    mats = consolidate(flow, ruleset, on_file=on_file)
    assert mats.get("scheme_approval").asked_again == reason and mats.on_file == ()
    text = notice_for(ruleset, S28, on_file, D(2026, 7, 1), "html")
    assert f"<strong>须重新提交：</strong>{reason}" in text
    # a certificate from a done case carries its validity from the rule-set (规划许可: one year)
    finish_f10(store)
    permit = next(c for c in store.certificates(CREDIT) if c.material == "works_planning_permit")
    assert permit.expires_on == dt.date(permit.issued_on.year + 1, permit.issued_on.month, permit.issued_on.day) - (
        dt.timedelta(days=1)
    )
    later = permit.expires_on + dt.timedelta(days=1)
    entry = next(e for e in store.on_file(CREDIT, as_of=later) if e.material == "works_planning_permit")
    assert (
        entry.asked_again
        == f"证照库中的证照（编号 {permit.number}）已于{permit.expires_on.isoformat()}过期，请重新提交"
    )


def test_a_revoked_certificate_is_asked_again_and_revoking_is_audited(store: CaseStore) -> None:
    finish_f10(store)
    scheme = next(c for c in store.certificates(CREDIT) if c.material == "scheme_approval")
    done = store.revoke_certificate(scheme.number, reason="方案调整，原审定意见撤回", by="规划局张三", at="2026-04-01")
    assert done.revoked and done.revoked_on == D(2026, 4, 1)
    entry = next(e for e in store.on_file(CREDIT, as_of="2026-04-02") if e.material == "scheme_approval")
    assert entry.asked_again == f"证照库中的证照（编号 {scheme.number}）已注销（方案调整，原审定意见撤回），请重新提交"
    with pytest.raises(TrackingError, match="already revoked"):
        store.revoke_certificate(scheme.number, reason="x", by="y", at="2026-04-03")
    with pytest.raises(InputError, match="no certificate numbered 'NOPE' on file"):
        store.revoke_certificate("NOPE", reason="x", by="y", at="2026-04-03")
    # the case's step numbers are shared by the certificates one step issues: say which material
    with pytest.raises(InputError, match="3 certificates are numbered") as err:
        store.revoke_certificate(f"{scheme.case_number}/project", reason="x", by="y", at="2026-04-03")
    assert "allowed: energy_review_opinion, filing_confirmation, project_approval_doc" in str(err.value)
    assert store.verify().ok


def test_certificate_numbers_can_be_given_when_the_step_is_done(store: CaseStore) -> None:
    number = store.open_case(F10, applicant="哈东置业", credit_code=CREDIT, at="2026-02-10", by="w").number
    for event in WALK:
        store.record(
            number,
            "land_transfer_contract",
            event,
            by="p",
            at="2026-02-10T10:00",
            certificates={"transfer_contract": "哈国土让2026-017"},
        )
    numbers = {c.material: c.number for c in store.certificates(CREDIT)}
    assert numbers == {"transfer_contract": "哈国土让2026-017", "land_title_doc": f"{number}/land_transfer_contract"}


CSV = """credit_code,material,number,issued,expires
91350100M000100Y43,land_use_certificate,哈国用（2025）第001号,2025-06-01,
91350100M000100Y43,eia_approval,哈环审〔2026〕12号,2026-01-05,2026-12-31
91350100M000100Y44,eia_approval,哈环审〔2026〕13号,2026-01-05,
91350100M000100Y43,drawing_review_certificate,审图2026-1,2026-01-05,
91350100M000100Y43,no_such_material,X1,2026-01-05,
91350100M000100Y43,eia_approval,哈环审〔2026〕14号,2026-13-05,
91350100M000100Y43,eia_approval,哈环审〔2026〕15号,2026-02-05,2026-01-01
91350100M000100Y43,eia_approval,,2026-02-05,
"""


def test_an_import_with_bad_rows_imports_the_good_ones_and_names_the_bad(store: CaseStore, tmp_path: Path) -> None:
    path = tmp_path / "certs.csv"
    path.write_text(CSV, encoding="utf-8")
    report = store.import_certificates(path, at="2026-03-01T09:00", by="窗口01")
    assert (report.imported, report.unchanged) == (2, 0)
    assert [(p.line, p.reason) for p in report.problems] == [
        (4, "统一社会信用代码 '91350100M000100Y44' fails the GB 32100-2015 check: the last character should be '3'"),
        (5, "material 'drawing_review_certificate' is not a certificate the database holds"),
        (6, "material 'no_such_material' is not a material id of the rule-set"),
        (7, "issued '2026-13-05' is not a date; allowed: YYYY-MM-DD"),
        (8, "expires 2026-01-01 is before issued 2026-02-05"),
        (9, "number is empty"),
    ]
    held = {c.material: c for c in store.certificates(CREDIT)}
    assert held["land_use_certificate"].expires_on is None and held["land_use_certificate"].origin == "import"
    assert held["eia_approval"].expires_on == D(2026, 12, 31)
    # idempotent: the same file again imports nothing and changes nothing
    again = store.import_certificates(path, at="2026-03-02T09:00", by="窗口01")
    assert (again.imported, again.unchanged, len(again.problems)) == (0, 2, 6)
    assert len(store.certificates(CREDIT)) == 2
    # the same number for another holder is refused, not overwritten
    clash = tmp_path / "clash.csv"
    clash.write_text(f"credit_code,material,number,issued\n{OTHER},eia_approval,哈环审〔2026〕12号,2026-01-05\n")
    assert [p.line for p in store.import_certificates(clash, at="2026-03-02", by="w").problems] == [2]
    assert store.certificates(OTHER) == []
    # no expires column: the validity comes from the rule-set (环评批复: five years)
    fresh = tmp_path / "fresh.csv"
    fresh.write_text(f"credit_code,material,number,issued\n{OTHER},eia_approval,哈环审〔2026〕99号,2026-01-05\n")
    store.import_certificates(fresh, at="2026-03-02", by="w")
    assert store.certificates(OTHER)[0].expires_on == D(2031, 1, 4)


def test_a_file_without_the_columns_is_refused_whole(store: CaseStore, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("code,material\nx,y\n")
    with pytest.raises(InputError) as err:
        store.import_certificates(path, at="2026-03-01", by="w")
    assert str(err.value).endswith(
        "missing columns credit_code, number, issued; allowed: credit_code, material, number, issued, expires"
    )


def test_an_invalid_credit_code_is_refused_with_the_reason(store: CaseStore) -> None:
    with pytest.raises(InputError, match="the last character should be '3'"):
        store.on_file("91350100M000100Y44", as_of="2026-03-01")
    with pytest.raises(InputError, match="has 5 characters; a code has 18"):
        store.certificates("12345")


def test_a_ruleset_without_a_database_behaves_as_before(db_url: str, tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(default_rules_path(), copy)
    (copy / "certificates.yaml").unlink()
    rs = load_ruleset(copy, cache=False)
    assert rs.certificates is None
    store = open_store(db_url, ruleset=rs)
    try:
        number = store.open_case(F10, applicant="哈东置业", credit_code=CREDIT, at="2026-02-10", by="w").number
        for event in WALK:
            store.record(number, "land_transfer_contract", event, by="p", at="2026-02-10T10:00")
        assert store.certificates(CREDIT) == []
        assert store.on_file(CREDIT, as_of="2026-03-01") == ()
        csv = tmp_path / "c.csv"
        csv.write_text("credit_code,material,number,issued\n")
        with pytest.raises(InputError, match=r"declares no certificate database \(certificates.yaml\)"):
            store.import_certificates(csv, at="2026-03-01", by="w")
    finally:
        store.engine.dispose()


def test_the_opened_case_lists_what_is_on_file(store: CaseStore) -> None:
    finish_f10(store)
    opened = store.open_case(S28, applicant="哈东置业", credit_code=CREDIT, at="2026-03-02", by="w")
    spared = {e.material for e in opened.on_file if e.usable}
    assert {"works_planning_permit", "scheme_approval"} <= spared  # every certificate held, for the window
    assert {e["material"] for e in opened.to_dict()["on_file"]} >= spared


# --- the command line -----------------------------------------------------------------------------
def _run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.stdout, result.stderr


def test_cli_import_list_revoke_and_guide(db_url: str, tmp_path: Path, ruleset: RuleSet) -> None:
    path = tmp_path / "certs.csv"
    path.write_text(CSV, encoding="utf-8")
    code, out, err = _run(["certs", "import", str(path), "--db", db_url, "--by", "窗口01", "--at", "2026-03-01"])
    assert code == 1
    assert out.strip() == "imported 2, already on file 0, refused 6"
    assert f"{path}:4: 统一社会信用代码 '91350100M000100Y44' fails the GB 32100-2015 check" in err
    code, out, _ = _run(["certs", "import", str(path), "--db", db_url, "--json", "--at", "2026-03-01"])
    assert code == 1 and json.loads(out)["unchanged"] == 2

    code, out, _ = _run(["certs", "list", "--credit-code", CREDIT, "--db", db_url, "--json", "--as-of", "2027-01-02"])
    assert code == 0
    listed = {c["material"]: c for c in json.loads(out)["certificates"]}
    assert listed["eia_approval"]["status"] == "expired" and listed["land_use_certificate"]["status"] == "valid"

    code, out, _ = _run(
        ["certs", "revoke", "哈国用（2025）第001号", "--reason", "土地收回", "--by", "国土局", "--db", db_url]
    )
    assert code == 0 and out.strip() == f"revoked 哈国用（2025）第001号 (国有土地使用证, {CREDIT}): 土地收回"
    code, out, _ = _run(["certs", "list", "--credit-code", CREDIT, "--db", db_url])
    assert "revoked（土地收回）" in out

    pairs = [f"{k}={v}" for k, v in F10.items()]
    code, _, err = _run(["guide", *pairs, "--credit-code", "91350100M000100Y44", "--db", db_url, "--format", "md"])
    assert code == 2
    assert (
        "error: 统一社会信用代码 '91350100M000100Y44' fails the GB 32100-2015 check: the last character should be '3'"
        in err
    )
    code, out, _ = _run(
        ["guide", *pairs, "--credit-code", CREDIT, "--db", db_url, "--format", "md", "--start", "2026-03-02"]
    )
    assert code == 0


def test_cli_guide_spares_what_a_done_case_produced(store: CaseStore, db_url: str) -> None:
    number = finish_f10(store)
    pairs = [f"{k}={v}" for k, v in S28.items()]
    code, out, _ = _run(
        ["guide", *pairs, "--credit-code", CREDIT, "--db", db_url, "--format", "md", "--start", "2026-03-02"]
    )
    assert code == 0
    assert f"已在证照库中，无需提交（证照编号 {number}/design_review）" in out


# --- the rule-set's declaration -------------------------------------------------------------------
def test_certificates_yaml_is_validated_with_file_and_line(tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(default_rules_path(), copy)
    (copy / "certificates.yaml").write_text(
        "name: 证照库\nsource: [seed003]\nconnected:\n  nosuch: {source: [seed003]}\n"
        "certificates:\n  no_material: {}\n  application_form: {}\n"
        "  eia_approval:\n    validity: {source: [nowhere]}\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleSetError) as err:
        load_ruleset(copy, cache=False)
    text = str(err.value)
    assert "rules/certificates.yaml:4:3: connected.nosuch: unknown department 'nosuch'" in text
    assert "rules/certificates.yaml:6:3: certificates.no_material: unknown material 'no_material'" in text
    assert (
        "rules/certificates.yaml:7:3: certificates.application_form: the material has no issuer; give 'issuer'" in text
    )
    assert "certificates.eia_approval.validity: give years, months or days" in text
    assert "certificates.eia_approval.validity.source[0]: unknown source 'nowhere'" in text


def test_packaged_rulesets_declare_the_pilot_departments() -> None:
    rs = load_ruleset(cache=False)
    assert rs.certificates is not None
    assert list(rs.certificates.connected) == [
        "fgw",
        "gtj",
        "ghj",
        "jw",
        "hbj",
    ]  # seed 003: 发改、国土、规划、建委、环保
    assert all(r.source == ["seed003"] for r in rs.certificates.connected.values())
    for kind in rs.certificates.certificates.values():
        if kind.validity is not None:
            assert kind.validity.source in (["law"], ["reconstruction"]) and kind.validity.basis


def test_typed_ids_and_database_entries_share_one_path(ruleset: RuleSet) -> None:
    flow = for_situation(ruleset, "S28", profile=S28)
    typed = consolidate(flow, ruleset, on_file=["scheme_approval"])
    looked_up = consolidate(flow, ruleset, on_file=[OnFile("scheme_approval", "G-1", "ghj")])
    assert [m.id for m in typed.on_file] == [m.id for m in looked_up.on_file] == ["scheme_approval"]
    assert (typed.on_file[0].certificate, looked_up.on_file[0].certificate) == (None, "G-1")
    # a usable entry wins over an expired one of the same material
    both = consolidate(
        flow, ruleset, on_file=[OnFile("scheme_approval", "old", asked_again="expired"), "scheme_approval"]
    )
    assert [m.id for m in both.on_file] == ["scheme_approval"]


def test_the_web_notice_looks_the_applicant_up_when_a_database_is_configured(
    store: CaseStore, db_url: str, ruleset: RuleSet
) -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from flowmatch.web import create_app

    number = finish_f10(store)
    query = {**S28, "format": "md", "start": "2026-03-02"}
    with TestClient(create_app(ruleset, db=db_url), raise_server_exceptions=False) as client:
        page = client.get("/notice", params={**query, "credit_code": CREDIT})
        assert page.status_code == 200
        assert f"已在证照库中，无需提交（证照编号 {number}/design_review）" in page.text
        bad = client.get("/notice", params={**query, "credit_code": "91350100M000100Y44"})
        assert bad.status_code == 400 and "the last character should be &#39;3&#39;" in bad.text
    with TestClient(create_app(ruleset), raise_server_exceptions=False) as client:
        page = client.get("/notice", params={**query, "credit_code": CREDIT})
        assert page.status_code == 400 and "本服务未接入证照数据库" in page.text


def test_the_other_messages(store: CaseStore, tmp_path: Path, db_url: str) -> None:
    with pytest.raises(InputError, match=r"^the reason for revoking is empty$"):
        store.revoke_certificate("X", reason=" ", by="y", at="2026-04-03")
    with pytest.raises(InputError, match=r"^who revokes the certificate \(--by\) is empty$"):
        store.revoke_certificate("X", reason="r", by=" ", at="2026-04-03")
    with pytest.raises(InputError, match=r"^who imports the certificates \(--by\) is empty$"):
        store.import_certificates(tmp_path / "none.csv", at="2026-04-03", by="")
    with pytest.raises(InputError, match=r"none\.csv: cannot read file: No such file or directory$"):
        store.import_certificates(tmp_path / "none.csv", at="2026-04-03", by="w")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("credit_code,material,number,issued\n\xe9".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin\.csv is not UTF-8 text$"):
        store.import_certificates(latin, at="2026-04-03", by="w")
    long = tmp_path / "long.csv"
    long.write_text(f"credit_code,material,number,issued\n{CREDIT},eia_approval,{'9' * 101},2026-01-05\n")
    assert [p.reason for p in store.import_certificates(long, at="2026-04-03", by="w").problems] == [
        "number is longer than 100 characters"
    ]
    code, _, err = _run(
        [
            "case",
            "record",
            "JS2026-000001",
            "x",
            "approve",
            "--by",
            "y",
            "--db",
            db_url,
            "--certificate",
            "eia_approval",
        ]
    )
    assert code == 2 and "error: --certificate 'eia_approval' is not MATERIAL=NUMBER" in err
    code, _, err = _run(["guide", "--batch", str(long), "-o", str(tmp_path / "out"), "--credit-code", CREDIT])
    assert code == 2 and "error: --credit-code is for one notice, not --batch" in err
