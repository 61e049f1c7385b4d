"""``mentorbridge lti ...``: install the LTI 1.3 tool in an LMS and look after it."""

from __future__ import annotations

import click
from sqlalchemy import select

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.lti.registration import issue_registration_url
from mentorbridge.plugin.lti.services_run import run_courses
from mentorbridge.plugin.lti.tool import LtiTool
from mentorbridge.plugin.store.lti_models import LtiPlatform, LtiUserLink


@click.group("lti")
def command() -> None:
    """The LTI 1.3 tool: registration with LMSs, its keys, linked users."""


@command.command("registration-url")
@pass_app
def registration_url(app: AppContext) -> None:
    """A one-time URL to paste into the LMS's "add tool" page (dynamic registration)."""
    with compose.open_store(app.config) as store:
        lti = LtiTool(app.config, store)
        issued = issue_registration_url(
            store, lti.urls, app.config["lti"]["registration_token_ttl_seconds"]
        )
    click.echo(issued.url)
    click.echo(
        f"usable once, for {issued.expires_in // 3600} h {issued.expires_in % 3600 // 60} min. "
        "Moodle: Site administration > Plugins > Activity modules > External tool > Manage "
        "tools > Tool URL, then Add LTI Advantage."
    )


@command.group("platform")
def platform() -> None:
    """Platforms (LMS registrations) the tool accepts launches from."""


@platform.command("add")
@click.option("--issuer", required=True, help="The platform's issuer (iss), e.g. its wwwroot.")
@click.option("--client-id", required=True, help="The client id the LMS gave the tool.")
@click.option("--auth-url", required=True, help="The OIDC authorisation (login) endpoint.")
@click.option("--jwks-url", required=True, help="The platform's public key set URL.")
@click.option("--token-url", default="", help="The OAuth 2 token endpoint (LTI Advantage).")
@click.option(
    "--deployment", "deployments", multiple=True, required=True, help="A deployment id (repeat)."
)
@click.option("--name", help="What to call it in listings.")
@pass_app
def platform_add(
    app: AppContext,
    issuer: str,
    client_id: str,
    auth_url: str,
    jwks_url: str,
    token_url: str,
    deployments: tuple[str, ...],
    name: str | None,
) -> None:
    """Register a platform by hand (for LMSs without dynamic registration)."""
    with compose.open_store(app.config) as store:
        lti = LtiTool(app.config, store)
        added = lti.platforms.add(
            issuer=issuer,
            client_id=client_id,
            auth_login_url=auth_url,
            jwks_url=jwks_url,
            auth_token_url=token_url,
            deployments=deployments,
            name=name,
        )
        urls = lti.urls
    click.echo(f"platform {added.id} added: {added.name} ({added.issuer}, client {client_id})")
    click.echo("give the LMS these tool URLs:")
    click.echo(f"  initiate login URL:      {urls.login}")
    click.echo(f"  redirection URI:         {urls.launch}")
    click.echo(f"  target link / launch:    {urls.launch}")
    click.echo(f"  deep linking URL:        {urls.launch}")
    click.echo(f"  public keyset (JWKS):    {urls.jwks}")
    click.echo(
        f"  custom parameter:        {app.config['lti']['custom_parameter']}=$Person.sourcedId"
    )


@platform.command("add-deployment")
@click.argument("platform_id", type=int)
@click.argument("deployment_id")
@pass_app
def platform_add_deployment(app: AppContext, platform_id: int, deployment_id: str) -> None:
    """Accept launches from another deployment of a registered platform."""
    with compose.open_store(app.config) as store:
        lti = LtiTool(app.config, store)
        if lti.platforms.get(platform_id) is None:
            raise click.ClickException(
                f"no platform {platform_id}: see `mentorbridge lti platform list`"
            )
        added = lti.platforms.add_deployment(platform_id, deployment_id)
    click.echo(
        f"deployment {deployment_id} {'added' if added else 'was registered already'} "
        f"for platform {platform_id}"
    )


@platform.command("list")
@pass_app
def platform_list(app: AppContext) -> None:
    """Every registered platform with its URLs and deployments."""
    with compose.open_store(app.config) as store:
        platforms = LtiTool(app.config, store).platforms.all()
    if not platforms:
        click.echo(
            "no platform registered: `mentorbridge lti registration-url` (dynamic) or "
            "`mentorbridge lti platform add` (manual)"
        )
    for p in platforms:
        click.echo(f"{p.id:>3}  {p.name}  ({p.registered_by})")
        click.echo(f"     issuer {p.issuer}  client {p.client_id}")
        click.echo(f"     deployments {', '.join(p.deployments) or '(none: launches refused)'}")
        click.echo(f"     login {p.auth_login_url}  keys {p.jwks_url}")
        click.echo(f"     token {p.auth_token_url or '(none: no roster or gradebook)'}")


@platform.command("remove")
@click.argument("platform_id", type=int)
@pass_app
def platform_remove(app: AppContext, platform_id: int) -> None:
    """Forget a platform (its deployments, linked users and gradebook memory too)."""
    with compose.open_store(app.config) as store:
        removed = LtiTool(app.config, store).platforms.remove(platform_id)
    if not removed:
        raise click.ClickException(
            f"no platform {platform_id}: see `mentorbridge lti platform list`"
        )
    click.echo(f"platform {platform_id} removed")


@command.group("keys")
def keys() -> None:
    """The tool's signing keys (published at /.well-known/jwks.json)."""


@keys.command("rotate")
@pass_app
def keys_rotate(app: AppContext) -> None:
    """Sign with a new key from now on; the old one stays published for a day."""
    with compose.open_store(app.config) as store:
        new, deleted = LtiTool(app.config, store).keys.rotate()
    click.echo(f"signing with key {new.kid} now; the previous key stays published for 24 h")
    if deleted:
        click.echo(f"deleted keys retired over 24 h ago: {', '.join(deleted)}")


@keys.command("status")
@pass_app
def keys_status(app: AppContext) -> None:
    """The stored keys: which signs, which are retired and when."""
    with compose.open_store(app.config) as store:
        rows = LtiTool(app.config, store).keys.status()
    if not rows:
        click.echo("no key yet: one is made on first use")
    for kid, made, retired in rows:
        state = f"retired {retired:%Y-%m-%d %H:%M}Z" if retired else "signing"
        click.echo(f"{kid}  made {made:%Y-%m-%d %H:%M}Z  {state}")


@command.command("links")
@click.option(
    "--by",
    type=click.Choice(["custom", "lis_person_sourcedid", "email", "roster"]),
    help="Only links made this way (email links deserve a look: an email can be reused).",
)
@pass_app
def links(app: AppContext, by: str | None) -> None:
    """LMS users linked to HRIS workers: platform, LMS user id, Employee ID, how."""
    with compose.open_store(app.config) as store, store.reading() as session:
        query = (
            select(LtiPlatform.name, LtiUserLink)
            .join(LtiPlatform, LtiPlatform.id == LtiUserLink.platform_id)
            .order_by(LtiUserLink.id)
        )
        if by:
            query = query.where(LtiUserLink.linked_by == by)
        rows = session.execute(query).all()
    if not rows:
        click.echo("no linked users" + (f" by {by}" if by else ""))
    for name, link in rows:
        click.echo(f"{name}  {link.subject}  ->  {link.worker_id}  ({link.linked_by})")


@command.command("roster")
@click.option("--platform", "platform_id", type=int, help="Only this platform's courses.")
@pass_app
def roster(app: AppContext, platform_id: int | None) -> None:
    """Read each course's roster (NRPS) and link its members to HRIS workers; exit 1 if
    some could not be linked (each listed) or a course failed."""
    _run(app, scores=False, platform_id=platform_id)


@command.command("scores")
@click.option("--platform", "platform_id", type=int, help="Only this platform's courses.")
@pass_app
def scores(app: AppContext, platform_id: int | None) -> None:
    """Post each linked participant's programme progress to the course gradebook (AGS):
    only scores that changed since the last post."""
    _run(app, scores=True, platform_id=platform_id)


def _run(app: AppContext, *, scores: bool, platform_id: int | None) -> None:
    with compose.open_store(app.config) as store:
        runs = run_courses(LtiTool(app.config, store), scores=scores, platform_id=platform_id)
    if not runs:
        click.echo("no course yet: courses are learnt from launches (with NRPS or AGS claims)")
        return
    failed = False
    for run in runs:
        click.echo(f"{run.platform} course {run.context_id}:")
        if run.error:
            failed = True
            click.echo(f"  FAILED: {run.error}")
            continue
        linked = ", ".join(f"{n} by {how}" for how, n in sorted(run.roster.linked.items()))
        click.echo(f"  roster: {run.roster.members} members, linked {linked or 'none'}")
        for subject, name in run.roster.unlinked[:20]:
            click.echo(f"  not linked: {subject} {name or ''}".rstrip())
        if len(run.roster.unlinked) > 20:
            click.echo(f"  … and {len(run.roster.unlinked) - 20} more not linked")
        if run.roster.unlinked and not scores:
            failed = True  # the roster command is about linking everyone
        if run.scores is not None:
            click.echo(
                f"  scores: {run.scores.posted} posted, {run.scores.unchanged} unchanged"
                + (", line item created" if run.scores.line_items_created else "")
            )
            for problem in run.scores.problems:
                failed = True
                click.echo(f"  problem: {problem}")
        calls = ", ".join(f"{what} {n}" for what, n in sorted(run.calls.items()))
        click.echo(f"  calls: {calls or 'none'}")
    if failed:
        raise SystemExit(1)
