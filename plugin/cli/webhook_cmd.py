"""``mentorbridge webhook secret add | list | retire``."""

from __future__ import annotations

import click

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.webhooks.signing_secrets import CACHE_SECONDS, SigningSecrets


@click.group("webhook")
def command() -> None:
    """The webhook endpoint's signing secrets."""


@command.group("secret")
def secret() -> None:
    """Add, list and retire signing secrets (several may be active while senders switch)."""


@secret.command("add")
@click.option("--label", help="What the secret is for, such as the sending system.")
@pass_app
def add(app: AppContext, label: str | None) -> None:
    """Create a secret and print it once: give it to the sender."""
    with compose.open_store(app.config) as store:
        secret_id, value = SigningSecrets(store).add(label)
    click.echo(f"secret {secret_id} added{f' ({label})' if label else ''}; it is shown only now:")
    click.echo(value)
    click.echo(
        "Senders sign t + '.' + the raw body with HMAC-SHA256 under it and send "
        "Mentorbridge-Signature: t=<unix seconds>,v1=<hex digest>."
    )


@secret.command("list")
@pass_app
def list_(app: AppContext) -> None:
    """Every secret: id, label, fingerprint, when added and retired (never the secret)."""
    with compose.open_store(app.config) as store:
        secrets = SigningSecrets(store).list()
    if app.config["web"].get("signing_secret"):
        click.echo("web.signing_secret is set in the configuration: active as well")
    if not secrets:
        click.echo("no stored secrets: add one with `mentorbridge webhook secret add`")
    for info in secrets:
        state = f"retired {info.retired_at:%Y-%m-%d %H:%M}" if info.retired_at else "active"
        click.echo(
            f"{info.id:>4}  {state:<24} sha256:{info.fingerprint}  added "
            f"{info.created_at:%Y-%m-%d %H:%M}  {info.label or ''}".rstrip()
        )


@secret.command("retire")
@click.argument("secret_id", type=int)
@pass_app
def retire(app: AppContext, secret_id: int) -> None:
    """Stop accepting signatures made with a secret."""
    with compose.open_store(app.config) as store:
        secrets = SigningSecrets(store)
        secrets.retire(secret_id)
        remaining = [s for s in secrets.list() if s.retired_at is None]
    click.echo(
        f"secret {secret_id} retired; running services stop accepting it within {CACHE_SECONDS:g} s"
    )
    if not remaining and not app.config["web"].get("signing_secret"):
        click.echo(
            "warning: no active secret is left, so every event will be refused (401) until "
            "one is added",
            err=True,
        )
