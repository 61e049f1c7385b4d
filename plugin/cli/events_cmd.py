"""``mentorbridge events send | held | release | import``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy import select

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.cli.events_import import import_cmd
from mentorbridge.plugin.errors import ServiceUnreachableError
from mentorbridge.plugin.store.webhook_models import WebhookEvent
from mentorbridge.plugin.webhooks.handlers import created_by
from mentorbridge.plugin.webhooks.sender import EXAMPLE_SEQUENCE, EventSender
from mentorbridge.plugin.webhooks.signing_secrets import SigningSecrets


@click.group("events")
def command() -> None:
    """Webhook events: send one to test an integration, see and release held ones, import a
    file of past events."""


command.add_command(import_cmd)


@command.command("send")
@click.argument("file", type=click.File("rb"))
@click.option("--url", help="The service [default: web.public_url, else http://web.host:web.port].")
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A file holding the signing secret [default: web.signing_secret, else the newest "
    "secret added with `mentorbridge webhook secret add`].",
)
@pass_app
def send(
    app: AppContext, file: click.utils.LazyFile, url: str | None, secret_file: Path | None
) -> None:
    """Sign the event in FILE (JSON; - for standard input) and post it, as a sender would.

    Prints the answer; exits 1 unless the event was accepted.

    The examples in schemas/webhooks/examples/ tell one pair's story; against a store holding
    the sample tenant (`mentorbridge sync workday`), send them in this order and each is
    accepted:

    \b
    {order}
    """
    body = file.read()
    try:
        json.loads(body)
    except ValueError as err:
        name = getattr(file, "name", "-")
        raise click.BadParameter(f"{name} is not JSON: {err}", param_hint="FILE") from None
    secret = _secret(app, secret_file)
    base = url or compose.service_url(app.config)
    try:
        with EventSender(base, [secret]) as sender:
            sent = sender.send(body)
    except ServiceUnreachableError as err:
        raise ServiceUnreachableError(
            f"{err}; is `mentorbridge serve` running there? The address came from "
            f"{'--url' if url else _url_source(app)}: give --url, or set web.public_url "
            "(or web.host and web.port) to where the service listens",
            url=err.url,
        ) from err
    click.echo(f"{sent.status} {json.dumps(sent.body, indent=2, ensure_ascii=False)}")
    if not sent.accepted:
        raise SystemExit(1)


send.help = (send.help or "").replace(
    "{order}",
    "\n    ".join(f"{n}. {name}.json" for n, name in enumerate(EXAMPLE_SEQUENCE, start=1)),
)


@command.command("held")
@pass_app
def held(app: AppContext) -> None:
    """Events waiting for the HRIS mirror to know a worker they name, and what each waits for."""
    with compose.open_store(app.config) as store, store.reading() as session:
        rows = session.execute(
            select(
                WebhookEvent.event_id,
                WebhookEvent.type,
                WebhookEvent.received_at,
                WebhookEvent.result,
                WebhookEvent.payload,
            )
            .where(WebhookEvent.status == "held")
            .order_by(WebhookEvent.id)
        ).all()
    if not rows:
        click.echo("no held events")
        return
    makers = {
        made: event_id
        for event_id, event_type, _, _, payload in rows
        if payload and (made := created_by(event_type, payload.get("data", {}))) is not None
    }
    for event_id, event_type, received, result, _ in rows:
        click.echo(
            f"{received:%Y-%m-%d %H:%M}  {event_type:<22} {event_id}  "
            f"{_waits_for(result or {}, makers)}"
        )
    click.echo(
        "They are processed after the HRIS sync that knows their workers "
        "(`mentorbridge sync workday`), or by `mentorbridge events release`."
    )


def _waits_for(result: dict, makers: dict[tuple[str, str], str]) -> str:
    """Why a held event waits: the worker it names that the mirror does not know, or what an
    earlier held event would create."""
    waiting = result.get("waiting_for") or {}
    kind, key = waiting.get("kind"), waiting.get("key")
    if kind == "worker":
        return f"waits for worker {key} (not in the HRIS mirror yet)"
    if kind and (kind, key) in makers:
        return f"waits for {kind} {key}, which held event {makers[kind, key]} creates"
    if kind:
        return f"waits for {kind} {key}"
    return f"held: {result.get('reason', 'no reason recorded')}"


@command.command("release")
@pass_app
def release(app: AppContext) -> None:
    """Process held events now (an HRIS sync does this by itself)."""
    with compose.open_store(app.config) as store:
        report = compose.event_processor(app.config, store).release_held()
    click.echo(
        f"{len(report.processed)} processed, {len(report.rejected)} rejected, "
        f"{len(report.still_held)} still held"
    )
    for event_id in report.rejected:
        click.echo(f"rejected: {event_id} (see its result in the store)", err=True)


def _url_source(app: AppContext) -> str:
    return "web.public_url" if app.config["web"]["public_url"] else "web.host and web.port"


def _secret(app: AppContext, secret_file: Path | None) -> str:
    if secret_file is not None:
        return secret_file.read_text("utf-8").strip()
    if app.config["web"].get("signing_secret"):
        return app.config["web"]["signing_secret"]
    with compose.open_store(app.config) as store:
        active = SigningSecrets(store).active()
    if not active:
        raise click.UsageError(
            "no signing secret: give one with --secret-file, set web.signing_secret, or add "
            "one with `mentorbridge webhook secret add`"
        )
    return active[-1]
