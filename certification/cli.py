"""`flask certification tick`: run it from cron (e.g. hourly); it is idempotent."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from certification import jobs
from shop.unit_of_work import use_case

certification_cli = AppGroup("certification", help="Certification of poverty-relief products.")


@certification_cli.command("tick")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Business date to act as of (Asia/Shanghai); today by default.",
)
def tick_command(on):
    """End public notices that are over and expire certificates past their validity."""
    today: date | None = on.date() if on else None
    with use_case():
        result = jobs.tick(today)
    click.echo(f"certified: {len(result.certified)} {' '.join(result.certified)}".rstrip())
    click.echo(f"expired: {len(result.expired)} {' '.join(result.expired)}".rstrip())
