"""`scrutiny commitments`: the register of targets and promises, with what later papers said."""
from __future__ import annotations

import click

from server.cli import backend_options

STATUS_CHOICES = ("met", "not met", "no later report", "unclear")


@click.command("commitments")
@click.option("--authority", help="Only this council's commitments (substring match).")
@click.option("--measure", help="Only commitments whose measure or wording contains TEXT.")
@click.option("--due-before", "due_before", help="Only commitments due before this ISO date.")
@click.option("--status", type=click.Choice(STATUS_CHOICES), help="Only commitments with this status.")
@click.option("--json", "as_json", is_flag=True, help="Print the register as JSON.")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), default=None,
              help="Index folder (default: $SCRUTINY_INDEX or ./var/index).")
@backend_options
def commitments_command(authority, measure, due_before, status, as_json, index_dir):
    """List commitments (targets, promises, priorities, action-plan rows) and their follow-ups."""
    import json
    import sys

    from commitments.register import RegisterQuery, load_register, register_json
    from core.settings import load_settings
    from index.backend import open_view
    from index.store import IndexError_
    from server.validation import ValidationError, checked_iso_date

    try:
        query = RegisterQuery(authority=authority, measure=measure, status=status,
                              due_before=checked_iso_date(due_before, "--due-before"))
        reader = open_view(load_settings(index_dir))
    except (ValidationError, IndexError_) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    entries = load_register(reader.conn, query)
    if as_json:
        click.echo(json.dumps(register_json(entries), indent=2, ensure_ascii=False))
        return
    print_table(entries)


def print_table(entries) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not entries:
        console.print("No commitments match.")
        return
    table = Table(show_lines=True)
    for name in ("Council", "Paper", "Measure", "Commitment", "Target", "Due", "Owner", "Status", "Later reports"):
        table.add_column(name, overflow="fold")
    for entry in entries:
        c = entry.commitment
        later = "\n".join(f"{f.date or '?'} {f.doc_id}: {f.value or '-'} ({f.outcome})" for f in entry.follow_ups[:3])
        where = f"{c.doc_id}\n{c.date or 'undated'}" + (f" p.{c.page}" if c.page else "") + (f" s.{c.section}" if c.section else "")
        table.add_row(c.authority or "", where, c.measure, _short(c.text), c.target or "", c.due or "", c.owner or "",
                      c.status, later)
    console.print(table)
    console.print(f"{len(entries)} commitments")


def _short(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."
