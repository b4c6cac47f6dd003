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


# (heading, share of the width left once the fixed columns are placed; 0: as wide as its longest word or value)
TABLE_COLUMNS = (("Paper", 3), ("Date", 0), ("Measure", 3), ("Target", 1), ("Due", 0), ("Status", 0))
GAP = "  "


def print_table(entries) -> None:
    """Title, date, measure, target, due and status, wrapped on word boundaries at the terminal's width."""
    import shutil

    if not entries:
        click.echo("No commitments match.")
        return
    width = shutil.get_terminal_size((100, 24)).columns
    click.echo(render_table([table_row(entry) for entry in entries], width))
    click.echo(f"{len(entries)} commitments")


def column_widths(rows: list[tuple[str, ...]], width: int) -> list[int]:
    """Fixed columns as wide as their widest word (dates and statuses keep whole words); the rest shared by ratio,
    each at least as wide as its longest word (up to 20, beyond which a word is broken)."""
    headings = [name for name, _ in TABLE_COLUMNS]
    longest_word = [max([len(w) for row in rows for w in row[i].split()] + [len(headings[i])]) for i in range(len(headings))]
    widths = [0] * len(headings)
    for i, (_, ratio) in enumerate(TABLE_COLUMNS):
        if not ratio:
            whole = max([len(row[i]) for row in rows] + [len(headings[i])])
            widths[i] = whole if whole <= 11 else longest_word[i]
    free = max(0, width - sum(widths) - len(GAP) * (len(headings) - 1))
    shares = sum(ratio for _, ratio in TABLE_COLUMNS)
    least = {i: min(longest_word[i], 20) for i, (_, ratio) in enumerate(TABLE_COLUMNS) if ratio}
    spare = max(0, free - sum(least.values()))
    for i, (_, ratio) in enumerate(TABLE_COLUMNS):
        if ratio:
            widths[i] = least[i] + spare * ratio // shares
    return widths


def render_table(rows: list[tuple[str, ...]], width: int) -> str:
    """Plain-text columns; each cell wrapped at spaces, rows apart by a rule."""
    import textwrap

    widths = column_widths(rows, width)
    lines = [GAP.join(name.ljust(w) for (name, _), w in zip(TABLE_COLUMNS, widths)).rstrip(),
             GAP.join("─" * w for w in widths)]
    for row in rows:
        cells = [textwrap.wrap(text, w, break_long_words=len(max(text.split() or [""], key=len)) > w,
                               break_on_hyphens=False) or [""] for text, w in zip(row, widths)]
        for n in range(max(len(cell) for cell in cells)):
            lines.append(GAP.join((cell[n] if n < len(cell) else "").ljust(w) for cell, w in zip(cells, widths)).rstrip())
        lines.append("")
    return "\n".join(lines).rstrip("\n")


def table_row(entry) -> tuple[str, ...]:
    """One line of the table: the paper by its title, dates as "1 March 2004"."""
    c = entry.commitment
    return (entry.title or c.doc_id, short_date(c.date), c.phrase, c.target or "", short_date(c.due), c.status)


def short_date(iso: str | None) -> str:
    """"2004-03-31" as "31 Mar 2004": the month abbreviated so a date column stays narrow."""
    import datetime as dt

    try:
        day = dt.date.fromisoformat(iso or "")
    except ValueError:
        return iso or ""
    return f"{day.day} {day:%b %Y}"
