"""The Workday connector: which source each stream is read from, and the checks an admin runs.

``workday.source`` picks the shipped sample tenant, a folder of report files, or a live tenant
(``api``). For a tenant, workers come from custom reports, REST or SOAP (``workers_from``);
organisations from their report (else REST); competencies, assessments, job-profile
requirements and succession plans from their reports; a stream whose report name is empty is
not synced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from requests.auth import AuthBase

from mentorbridge.connectors.base import (
    CheckResult,
    Connector,
    Skipped,
    Stream,
    Window,
    reasons_text,
    sample_skips,
)
from mentorbridge.connectors.http import HttpClient
from mentorbridge.connectors.workday.auth import (
    BearerAuth,
    JWTGrant,
    RefreshTokenGrant,
    RefreshTokens,
    basic_auth,
    token_endpoint,
    ws_security_header,
)
from mentorbridge.connectors.workday.client import WorkdayClient
from mentorbridge.connectors.workday.inspect import CHECK_SAMPLE, sample_report
from mentorbridge.connectors.workday.soap import SoapWorkers
from mentorbridge.connectors.workday.streams import (
    FileRows,
    ReportRows,
    ReportStream,
    RestOrganizations,
    RestWorkers,
    hidden_fields_message,
)
from mentorbridge.plugin.errors import ConfigError, MentorbridgeError, SourceUnreachableError

__all__ = ["STREAM_ORDER", "WorkdayConnector", "sample_directory"]

#: Streams in the order they are synced (organisations before the workers who belong to them).
STREAM_ORDER = (
    "organizations",
    "workers",
    "competencies",
    "job_profile_competencies",
    "competency_assessments",
    "succession_plans",
)


def sample_directory() -> Path:
    """The shipped sample tenant's report files."""
    return Path(str(resources.files("mentorbridge.connectors.workday.sample") / "data"))


@dataclass(slots=True)
class _Access:
    """The credentials this configuration needs, built once."""

    bearer: BearerAuth | None = None
    basic: AuthBase | None = None


class WorkdayConnector(Connector):
    """Workday, as configured by the ``[workday]`` section.

    Args:
        settings: the ``workday`` section of the configuration.
        refresh_tokens: where the live refresh token is kept (it may be rotated).
        sleep: how retries wait (tests pass a fake).
        session: a ``requests.Session`` to use (tests).
    """

    name = "workday"

    def __init__(
        self,
        settings: Mapping[str, Any],
        *,
        refresh_tokens: RefreshTokens | None,
        sleep: Callable[[float], None] | None = None,
        session: Any = None,
    ) -> None:
        self.settings = settings
        self.refresh_tokens = refresh_tokens
        retry_options = {"sleep": sleep} if sleep is not None else {}
        self.http = HttpClient(
            connect_timeout=settings["connect_timeout"],
            read_timeout=settings["read_timeout"],
            max_retries=settings["max_retries"],
            backoff_base=settings["backoff_base_seconds"],
            backoff_cap=settings["backoff_max_seconds"],
            session=session,
            **retry_options,
        )
        self._streams: list[Stream] | None = None
        self._access: _Access | None = None

    def close(self) -> None:
        self.http.close()

    # -- streams ----------------------------------------------------------------------------

    def streams(self) -> Sequence[Stream]:
        if self._streams is None:
            self._streams = self._build_streams()
        return self._streams

    def _build_streams(self) -> list[Stream]:
        s = self.settings
        aliases = s["fields"]
        sensitive = s["sensitive_fields"]
        absent = s["absent_columns"]
        if s["source"] in ("sample", "files"):
            rows = (
                FileRows(sample_directory(), "json")
                if s["source"] == "sample"
                else FileRows(self._files_dir(), s["files_format"])
            )
            if not rows.path("workers").is_file():
                raise ConfigError(
                    f"workday.files_dir: {rows.path('workers')} does not exist; "
                    "export the workers report there",
                    key="workday.files_dir",
                )
            return [
                ReportStream(name, rows, aliases, sensitive=sensitive, absent_columns=absent)
                for name in STREAM_ORDER
                if rows.path(name).is_file()
            ]
        client = self._client()
        reports = {
            name: report
            for name, report in s["reports"].items()
            if report and (name != "workers" or s["workers_from"] == "raas")
        }
        report_rows = None
        if reports:
            report_rows = ReportRows(
                client,
                owner=self._require("report_owner"),
                reports=reports,
                prompts=s["prompts"],
                auth=self._report_auth(),
            )
        built: dict[str, Stream] = {}
        for name in STREAM_ORDER:
            if name == "workers" and s["workers_from"] == "rest":
                built[name] = RestWorkers(
                    client,
                    service_path=s["rest_workers_path"],
                    page_size=s["rest_page_size"],
                    absent_columns=absent,
                )
            elif name == "workers" and s["workers_from"] == "soap":
                built[name] = self._soap_workers(client)
            elif report_rows is not None and name in reports:
                built[name] = ReportStream(
                    name, report_rows, aliases, sensitive=sensitive, absent_columns=absent
                )
            elif name == "organizations" and self._bearer_possible():
                built[name] = RestOrganizations(
                    client, service_path="v1", page_size=s["rest_page_size"]
                )
        if "workers" not in built:
            raise ConfigError(
                "workday.reports.workers is empty but workday.workers_from is "
                "raas: name the workers report",
                key="workday.reports.workers",
            )
        return list(built.values())

    def _soap_workers(self, client: WorkdayClient) -> SoapWorkers:
        s = self.settings
        if s["soap_auth"] == "bearer":
            return SoapWorkers(
                client,
                version=s["soap_version"],
                page_size=s["soap_page_size"],
                auth=self._access_().bearer,
                absent_columns=s["absent_columns"],
            )
        username, password = self._require("isu_username"), self._require("isu_password")
        return SoapWorkers(
            client,
            version=s["soap_version"],
            page_size=s["soap_page_size"],
            auth=None,
            security=lambda: ws_security_header(username, password),
            absent_columns=s["absent_columns"],
        )

    # -- access -----------------------------------------------------------------------------

    def _client(self) -> WorkdayClient:
        host, tenant = self._require("host"), self._require("tenant")
        return WorkdayClient(self.http, host=host, tenant=tenant, bearer=self._access_().bearer)

    def _access_(self) -> _Access:
        if self._access is None:
            self._access = _Access(bearer=self._bearer() if self._needs_bearer() else None)
        return self._access

    def _needs_bearer(self) -> bool:
        s = self.settings
        return (
            s["workers_from"] == "rest"
            or (s["raas_auth"] == "bearer" and any(s["reports"].values()))
            or (s["workers_from"] == "soap" and s["soap_auth"] == "bearer")
            or not s["reports"]["organizations"]
        )

    def _bearer_possible(self) -> bool:
        return self._access_().bearer is not None

    def _bearer(self) -> BearerAuth | None:
        s = self.settings
        if not s["client_id"]:
            if s["workers_from"] == "rest":
                raise ConfigError(
                    "workday.client_id is not set but workers come from REST, "
                    "which needs an API client",
                    key="workday.client_id",
                )
            return None
        endpoint = token_endpoint(self.http, self._require("host"), self._require("tenant"))
        if s["auth"] == "jwt":
            key_file = Path(self._require("jwt_key_file")).expanduser()
            try:
                key = key_file.read_bytes()
            except OSError as err:
                raise ConfigError(
                    f"workday.jwt_key_file = {str(key_file)!r}: cannot read it ({err.strerror})",
                    key="workday.jwt_key_file",
                ) from err
            grant: Any = JWTGrant(
                endpoint,
                client_id=s["client_id"],
                subject=self._require("jwt_subject"),
                private_key_pem=key,
            )
        else:
            self._require("refresh_token")
            if self.refresh_tokens is None:
                raise ConfigError(
                    "a refresh-token grant needs somewhere to keep rotated tokens",
                    key="workday.refresh_token",
                )
            grant = RefreshTokenGrant(
                endpoint,
                client_id=s["client_id"],
                client_secret=self._require("client_secret"),
                refresh_tokens=self.refresh_tokens,
                client_auth=s["client_auth"],
            )
        return BearerAuth(grant)

    def _report_auth(self) -> AuthBase:
        if self.settings["raas_auth"] == "bearer":
            bearer = self._access_().bearer
            if bearer is None:
                raise ConfigError(
                    "workday.raas_auth is bearer but no API client is configured",
                    key="workday.client_id",
                )
            return bearer
        return basic_auth(self._require("isu_username"), self._require("isu_password"))

    def _files_dir(self) -> Path:
        return Path(self._require("files_dir")).expanduser()

    def _require(self, key: str) -> str:
        value = self.settings.get(key)
        if not value:
            hint = {
                "client_secret": "MENTORBRIDGE_WORKDAY_CLIENT_SECRET or workday.client_secret_file",
                "refresh_token": "MENTORBRIDGE_WORKDAY_REFRESH_TOKEN or workday.refresh_token_file",
                "isu_password": "MENTORBRIDGE_WORKDAY_ISU_PASSWORD or workday.isu_password_file",
            }.get(key, f"workday.{key}")
            raise ConfigError(
                f"workday.{key} is not set but this configuration needs it: set {hint}",
                key=f"workday.{key}",
            )
        return str(value)

    # -- checks -----------------------------------------------------------------------------

    def check(self) -> list[CheckResult]:
        """Try each source once and say what fails. A diagnostic answers in seconds: a
        connection that cannot be made is not retried (a sync retries it), and a host that
        cannot be reached is reported once, not once per report."""
        self.http.retry_connection_failures = False
        try:
            return self._check()
        finally:
            self.http.retry_connection_failures = True

    def _check(self) -> list[CheckResult]:
        results: list[CheckResult] = []
        try:
            streams = self.streams()
        except MentorbridgeError as err:
            return [CheckResult("configuration", False, str(err))]
        remote = [s.name for s in streams if not _from_files(s)]
        access = self._access
        if access is not None and access.bearer is not None:
            try:
                access.bearer.token()
                results.append(CheckResult("OAuth token", True, "an access token was issued"))
            except SourceUnreachableError as err:
                return [self._unreachable(err, not_tried=remote)]
            except MentorbridgeError as err:
                results.append(CheckResult("OAuth token", False, str(err)))
                return results
        for stream in streams:
            try:
                results.append(self._check_stream(stream))
            except SourceUnreachableError as err:
                # Every other request goes to the same host: one answer says it all.
                after = remote[remote.index(stream.name) + 1 :]
                results.append(self._unreachable(err, not_tried=after))
                results.extend(self._check_stream(s) for s in streams if _from_files(s))
                break
        return results

    def _unreachable(self, err: SourceUnreachableError, *, not_tried: Sequence[str]) -> CheckResult:
        skipped = f"; not tried on this host: {', '.join(not_tried)}" if not_tried else ""
        return CheckResult(
            "Workday host",
            False,
            f"{err} — check workday.host (MENTORBRIDGE_WORKDAY_HOST): the tenant's services "
            f"host, such as https://wd2-impl-services1.workday.com{skipped}",
        )

    def _check_stream(self, stream: Stream) -> CheckResult:
        """One source's check; a host that cannot be reached is raised for :meth:`check`."""
        source = _describe(stream)
        if isinstance(stream, ReportStream):
            return self._check_report(stream, source)
        try:
            items = list(_first(stream, CHECK_SAMPLE))
        except SourceUnreachableError:
            raise
        except MentorbridgeError as err:
            return CheckResult(source, False, str(err))
        absent = _absent_in_sample(stream, items)
        result = CheckResult(source, True, _read_detail(len(items)), absent)
        return self._would_skip(stream, result, items)

    def _check_report(self, stream: ReportStream, source: str) -> CheckResult:
        """A report's check: its first rows, the layout they have (one row per item, or items
        nested under a parent row) and the mapped columns, nested ones too, that none carries."""
        try:
            sample = sample_report(stream, CHECK_SAMPLE)
        except SourceUnreachableError:
            raise
        except MentorbridgeError as err:
            return CheckResult(source, False, str(err))
        detail = _read_detail(sample.rows)
        if sample.layout:
            detail = f"{detail}; layout: {sample.layout}"
        return self._would_skip(
            stream, CheckResult(source, True, detail, sample.warnings), sample.records
        )

    def _would_skip(
        self, stream: Stream, result: CheckResult, items: list[dict[str, Any] | Skipped]
    ) -> CheckResult:
        """``result`` with what a sync would skip of the sample, checked against the stream's
        record schema: a warning, or a failure where it is more than the stream may skip."""
        read, skipped, kinds = sample_skips(self.name, stream, items)
        if not skipped:
            return result
        share = self.settings["max_skipped_share"]
        found = f"{skipped} of {read} records read would be skipped: {reasons_text(kinds)}"
        if skipped > share * read:
            found += (
                f" — more than workday.max_skipped_share ({share:.0%}) allows, so a sync would "
                "fail this stream: fix the report or the field mapping (workday.fields)"
            )
        return replace(result, warnings=(*result.warnings, found))


def _read_detail(rows: int) -> str:
    if rows >= CHECK_SAMPLE:
        return (
            f"first {rows} rows read (a sample; `mentorbridge sync workday --dry-run` "
            "reads and counts them all)"
        )
    return f"{rows} record(s) read (all there are)"


def _first(stream: Stream, limit: int) -> Iterator[dict[str, Any] | Skipped]:
    """The first records a full read gives, as read: a source that gives whole records is not
    held back to judge absent fields (:func:`_absent_in_sample` does that for the sample)."""
    read = getattr(stream, "read", stream.records)
    records = read(Window(since=None, until=datetime.now(UTC)))
    try:
        for count, item in enumerate(records):
            if count >= limit:
                return
            yield item
    finally:
        records.close()


def _absent_in_sample(stream: Stream, items: list[dict[str, Any] | Skipped]) -> tuple[str, ...]:
    """A warning naming the watched fields no record of the sample has (workers from REST or
    SOAP: Workday leaves out what the integration user may not see)."""
    watched: dict[str, str] = dict(getattr(stream, "watched", {}))
    records = [item for item in items if isinstance(item, dict)]
    absent = {
        field: where
        for field, where in watched.items()
        if not any(record.get(field) not in (None, "", []) for record in records)
    }
    if not records or not absent:
        return ()
    return (
        hidden_fields_message(stream.name, absent, len(records), scope="read")
        + '; a sync fails on them unless workday.absent_columns = "warn"',
    )


def _from_files(stream: Stream) -> bool:
    return isinstance(stream, ReportStream) and isinstance(stream.source, FileRows)


def _describe(stream: Stream) -> str:
    kind = type(stream).__name__
    if isinstance(stream, ReportStream):
        source = stream.source
        where = (
            f"file {source.path(stream.name)}"
            if isinstance(source, FileRows)
            else f"report {source.reports[stream.name]}, workday.reports.{stream.name}"
        )
        return f"{stream.name} ({where})"
    return f"{stream.name} ({kind})"
