"""``flowmatch certs ...``: the command-line face of the certificate database (证照数据库).

Each command parses, makes one :class:`flowmatch.tracking.CaseStore` call, prints (text or
``--json``).  ``--at`` / ``--as-of`` default to now / today (the CLI is where the clock is read).
"""

from __future__ import annotations

from pathlib import Path

import click

from .cli import _console, _emit
from .cli_case import Opener, _date, _datetime, store_options


@click.group()
def certs() -> None:
    """The certificate database (证照数据库): import, list and revoke certificates by 统一社会信用代码."""


@certs.command(name="import")
@store_options
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", "by", default="import", show_default=True, help="Who imports (for the audit trail).")
@click.option("--at", "at", default=None, metavar="DATETIME", help="When (default: now).")
def import_(store: Opener, as_json: bool, file: Path, by: str, at: str | None) -> None:
    """Import certificates issued before from FILE.csv (credit_code, material, number, issued, expires).

    Bad rows are reported with their line and reason and the rest imported (exit 1 if any row was
    bad); importing the same file again changes nothing."""
    report = store().import_certificates(file, at=_datetime(at), by=by)
    if as_json:
        _emit(report.to_dict())
    else:
        click.echo(f"imported {report.imported}, already on file {report.unchanged}, refused {len(report.problems)}")
        for p in report.problems:
            click.echo(f"{file}:{p.line}: {p.reason}", err=True)
    if report.problems:
        raise SystemExit(1)


@certs.command(name="list")
@store_options
@click.option("--credit-code", "credit_code", required=True, help="The holder's 统一社会信用代码.")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD", help="Status on this day (default: today).")
def list_(store: Opener, as_json: bool, credit_code: str, as_of: str | None) -> None:
    """The certificates a holder has on file, with their status (valid, expired, revoked)."""
    day = _date(as_of, "--as-of")
    found = store().certificates(credit_code)
    if as_json:
        _emit(
            {
                "credit_code": credit_code.strip().upper(),
                "as_of": day.isoformat(),
                "certificates": [c.to_dict(day) for c in found],
            }
        )
        return
    con = _console()
    if not found:
        con.print("no certificates on file", markup=False)
    for c in found:
        until = f"至 {c.expires_on}" if c.expires_on else "长期"
        source = f"{c.case_number}/{c.step}" if c.case_number else c.origin
        state = c.status(day) + (f"（{c.revoked_reason}）" if c.revoked else "")
        con.print(
            f"{c.number}  {c.name} [{c.material}]  {c.issuer}  {c.issued_on} {until}  {state}  {source}", markup=False
        )


@certs.command()
@store_options
@click.argument("number")
@click.option("--reason", required=True, help="Why it is revoked (printed on the next notice).")
@click.option("--by", "by", required=True, help="Who revokes it.")
@click.option("--material", default=None, help="The material id, when two certificates share the number.")
@click.option("--at", "at", default=None, metavar="DATETIME", help="When (default: now).")
def revoke(
    store: Opener, as_json: bool, number: str, reason: str, by: str, material: str | None, at: str | None
) -> None:
    """Revoke (注销) certificate NUMBER: its material is asked again from then on."""
    cert = store().revoke_certificate(number, reason=reason, by=by, at=_datetime(at), material=material)
    if as_json:
        _emit(cert.to_dict())
    else:
        click.echo(f"revoked {cert.number} ({cert.name}, {cert.credit_code}): {cert.revoked_reason}")
