"""``mentorbridge token add | list | revoke``: the bearer tokens of the report endpoints."""

from __future__ import annotations

import click

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.errors import UnknownReferenceError
from mentorbridge.plugin.reports.access import ROLES, create_token, list_tokens, revoke_token


@click.group("token")
def command() -> None:
    """Tokens for GET /reports/... and /api/evidence/... (talent teams, admins)."""


@command.command("add")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    required=True,
    help="talent: reports and evidence explanations; admin: those and the audit.",
)
@click.option(
    "--label", required=True, help="Who or what uses it (such as 'people analytics warehouse')."
)
@pass_app
def add(app: AppContext, role: str, label: str) -> None:
    """Make a token and print it once: it is stored only as a hash."""
    if not label.strip() or len(label.strip()) > 100:
        raise click.BadParameter("give 1 to 100 characters", param_hint="'--label'")
    with compose.open_store(app.config) as store:
        info, token = create_token(store, role, label)
    click.echo(f"token {info.id} ({info.role}, {info.label}) added; it is shown only now:")
    click.echo(token)
    click.echo("Callers send it as: Authorization: Bearer <token>")


@command.command("list")
@pass_app
def list_(app: AppContext) -> None:
    """Every token: id, prefix, role, label, when made, last used and revoked (never the
    secret)."""
    with compose.open_store(app.config) as store:
        tokens = list_tokens(store)
    if not tokens:
        click.echo("no tokens: add one with `mentorbridge token add --role talent --label TEXT`")
    for info in tokens:
        state = f"revoked {info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else "active"
        used = f"{info.last_used_at:%Y-%m-%d %H:%M}" if info.last_used_at else "never"
        click.echo(
            f"{info.id:>4}  mb_{info.prefix}_…  {info.role:<6}  {state:<22}  added "
            f"{info.created_at:%Y-%m-%d %H:%M}  last used {used:<16}  {info.label}"
        )


@command.command("revoke")
@click.argument("token")
@pass_app
def revoke(app: AppContext, token: str) -> None:
    """Revoke TOKEN (its id, or its prefix as `token list` shows it); refused at once."""
    key: int | str = int(token) if token.isdigit() else token.removeprefix("mb_").split("_")[0]
    with compose.open_store(app.config) as store:
        try:
            info = revoke_token(store, key)
        except UnknownReferenceError as err:
            raise click.BadParameter(str(err), param_hint="TOKEN") from None
    click.echo(f"token {info.id} ({info.role}, {info.label}) revoked")
