"""The connector contract, and the one sync loop every connector runs in.

A :class:`Connector` names its :class:`Stream` objects; a stream knows its name, primary key
and whether it can read incrementally, and yields normalised records (or :class:`Skipped`
markers for records it could not read). :func:`run_sync` owns the rest: validation of each
record against ``schemas/<connector>/<stream>.schema.json``, batched upserts through a
:class:`SyncSink`, bookmarks committed in the same transaction as the records they cover, and
the :class:`SyncReport`. A record that fails validation is skipped, counted and reported, its
reason grouped with the others like it.

A stream fails when its source fails (a page still failing after its retries), when the sink
refuses its records, or when it skips more than ``max_skipped_share`` of what it read. A failed
stream never stops the others: every stream runs and reports, then the run is recorded as
failed naming the failed streams, and :class:`~plugin.errors.SyncFailedError` is raised. A
failed stream's bookmark stays where it was, and so does the bookmark of a stream that skipped
records for a reason the admin can fix, so the next run reads them again without ``--full``.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, TypeVar

from mentorbridge import schemas
from mentorbridge.plugin.errors import (
    ConfigError,
    FatalError,
    MentorbridgeError,
    SourceUnreachableError,
    StoreError,
    SyncFailedError,
)

__all__ = [
    "CheckResult",
    "Connector",
    "Skipped",
    "Stream",
    "StreamCounts",
    "SyncReport",
    "SyncSink",
    "Window",
    "prefetched",
    "run_sync",
    "sample_skips",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Records stored per transaction: fewer, larger transactions cost SQLite less (a full sync of
#: 100,000 workers spent a quarter of its time committing batches of 500; bench/README.md).
BATCH_SIZE = 2000
MAX_REPORTED_SKIPS = 200
#: The share of a stream's records a run may skip before the stream fails (1%).
DEFAULT_MAX_SKIPPED_SHARE = 0.01


@dataclass(frozen=True, slots=True)
class Window:
    """What a stream reads: changes after ``since`` (``None``: everything) up to ``until``,
    the moment the run started (a source that can pin its results pins them to it)."""

    since: datetime | None
    until: datetime

    @property
    def full(self) -> bool:
        return self.since is None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record the source sent but a stream could not read; it is counted and reported.

    ``fixable``: the admin can fix the cause (a missing column or an unreadable value), so the
    stream's bookmark must not move past the record.
    """

    key: str
    reason: str
    fixable: bool = True


class Stream(ABC):
    """One kind of record from a source.

    Attributes:
        name: the stream's name (and the name of its schema).
        primary_key: the fields that identify a record.
        incremental: whether :meth:`records` honours ``window.since``; if not, every run reads
            everything and the sink leaves unchanged rows alone.
    """

    name: str
    primary_key: tuple[str, ...]
    incremental: bool = False

    @abstractmethod
    def records(self, window: Window) -> Iterator[dict[str, Any] | Skipped]:
        """Normalised records in the window; raise if the source fails."""

    def key_of(self, record: dict[str, Any]) -> str:
        """A record's primary key as text, for reports."""
        return "/".join(str(record.get(part, "?")) for part in self.primary_key)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of checking one source: ``ok`` or a problem with its explanation."""

    source: str
    ok: bool
    detail: str
    warnings: tuple[str, ...] = ()


class Connector(ABC):
    """A source system: its streams and a way to check that each is reachable."""

    name: ClassVar[str]

    @abstractmethod
    def streams(self) -> Sequence[Stream]:
        """The streams this configuration syncs, in dependency order."""

    @abstractmethod
    def check(self) -> list[CheckResult]:
        """Try every configured source and say what works and what does not."""


@dataclass(slots=True)
class StreamCounts:
    """What a sync did to one stream's rows."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    terminated: int = 0
    rehired: int = 0
    skipped: int = 0
    merged: int = 0  # duplicates merged into another record of the same key

    def add(self, other: StreamCounts) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def seen(self) -> int:
        return self.created + self.updated + self.unchanged + self.skipped


@dataclass(slots=True)
class SyncReport:
    """What one run did, per stream, and the records it skipped (with the reason)."""

    connector: str
    mode: str
    dry_run: bool
    run_id: int | None = None
    counts: dict[str, StreamCounts] = field(default_factory=dict)
    skips: list[dict[str, str]] = field(default_factory=list)
    #: Per stream, each kind of skip (its reason without the values) and how many records.
    reasons: dict[str, dict[str, int]] = field(default_factory=dict)
    #: The streams that failed, with what went wrong (the others ran all the same).
    failed: dict[str, str] = field(default_factory=dict)
    #: What an admin should know besides the counts: merged duplicates, kept bookmarks.
    notes: list[str] = field(default_factory=list)
    #: What the sink could not join after the run (workers whose organisation or manager it
    #: does not know); empty for a dry run or a sink that does not check.
    consistency: dict[str, Any] = field(default_factory=dict)

    def skip(self, stream: str, key: str, reason: str, *, kinds: Sequence[str] = ()) -> None:
        """Count a skipped record; ``kinds`` are its reasons without values (for grouping)."""
        self.counts.setdefault(stream, StreamCounts()).skipped += 1
        if len(self.skips) < MAX_REPORTED_SKIPS:
            self.skips.append({"stream": stream, "key": key, "reason": reason})
        grouped = self.reasons.setdefault(stream, {})
        for kind in kinds or (skip_kind(reason),):
            grouped[kind] = grouped.get(kind, 0) + 1
        log.warning("skipped %s record %s: %s", stream, key, reason)

    def reasons_text(self, stream: str, *, limit: int = 5) -> str:
        """The stream's skip reasons, most frequent first: ``hire_date: … (3 records); …``."""
        return reasons_text(self.reasons.get(stream, {}), limit=limit)

    @property
    def ok(self) -> bool:
        return not self.failed


def reasons_text(kinds: dict[str, int], *, limit: int = 5) -> str:
    """Skip reasons with their counts, most frequent first: ``hire_date: … (3 records); …``."""
    ranked = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    text = "; ".join(f"{kind} ({n:,} record{'s' * (n != 1)})" for kind, n in ranked[:limit])
    return text + (f"; and {len(ranked) - limit} more kinds" if len(ranked) > limit else "")


def sample_skips(
    connector: str, stream: Stream, items: Iterable[dict[str, Any] | Skipped]
) -> tuple[int, int, dict[str, int]]:
    """What a sync would skip of ``items`` (a check's sample), judged as :func:`run_sync`
    judges: the records read, those skipped, and the skip reasons grouped and counted."""
    read = skipped = 0
    kinds: dict[str, int] = {}
    for item in items:
        read += 1
        if isinstance(item, Skipped):
            found = [skip_kind(item.reason)]
        elif problems := schemas.check(f"{connector}/{stream.name}", item, root=stream.name):
            found = list(dict.fromkeys(_problem_kind(path, message) for path, message in problems))
        else:
            continue
        skipped += 1
        for kind in found:
            kinds[kind] = kinds.get(kind, 0) + 1
    return read, skipped, kinds


_VALUE = re.compile(r" = .*?(: expected .*)?$", re.DOTALL)
_INDEX = re.compile(r"\[\d+\]")


def skip_kind(reason: str) -> str:
    """A skip reason without the record's own values, so like reasons group together:
    ``hire_date (report column Hire_Date) = '2020-02-31': expected a date`` becomes
    ``hire_date (report column Hire_Date): expected a date``."""
    return _VALUE.sub(lambda m: m[1] or ": a value that cannot be read", reason, count=1)


def _problem_kind(path: str, message: str) -> str:
    """A schema problem without the value, items of a list counted together."""
    path = _INDEX.sub("[]", path)
    if " is not valid: expected " in message:
        value, expected = message.split(" is not valid: expected ", 1)
        what = "missing" if value in ("null", '""') else "not valid"
        return f"{path}: {what}: expected {expected}"
    return f"{path}: {message}"


class SyncSink(Protocol):
    """Where a sync writes (the store's HRIS mirror satisfies it)."""

    def start_run(self, connector: str, mode: str, dry_run: bool) -> int:
        """Record a new run; returns its id."""
        ...

    def bookmark(self, connector: str, stream: str) -> datetime | None:
        """Where the last successful run of this stream got to."""
        ...

    def write(
        self,
        connector: str,
        stream: str,
        records: list[dict[str, Any]],
        *,
        bookmark: datetime | None,
        run_id: int,
        dry_run: bool,
    ) -> StreamCounts:
        """Upsert records (and move the bookmark) in one transaction; a dry run rolls back."""
        ...

    def finish_run(self, run_id: int, report: SyncReport, *, error: str | None) -> None:
        """Record the run's outcome."""
        ...


def prefetched(items: Iterator[T], *, depth: int = 2) -> Iterator[T]:
    """``items``, produced by a background thread up to ``depth`` ahead of the consumer.

    The next page downloads while this one is validated and stored, so a sync takes about as
    long as the slower of the two instead of their sum. An error in the producer is raised in
    the consumer, in order; closing the consumer stops the producer.
    """
    channel: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                channel.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((True, done))
        except BaseException as err:  # handed to the consumer, raised there
            put((False, err))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    producer = threading.Thread(target=produce, name="prefetch", daemon=True)
    producer.start()
    try:
        while True:
            ok, item = channel.get()
            if not ok:
                raise item
            if item is done:
                return
            yield item
    finally:
        stop.set()
        producer.join()


def run_sync(
    connector: Connector,
    sink: SyncSink,
    *,
    full: bool = False,
    dry_run: bool = False,
    only: Sequence[str] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_progress: Callable[[str, int], None] | None = None,
    max_skipped_share: float = DEFAULT_MAX_SKIPPED_SHARE,
) -> SyncReport:
    """Sync every stream of ``connector`` (or the ``only`` ones) into ``sink``.

    Args:
        full: read everything, even where a stream could read only what changed.
        dry_run: count what would change, write nothing (bookmarks stay where they are).
        only: names of the streams to sync.
        on_progress: called with the stream name and the records seen so far.
        max_skipped_share: a stream that skips more than this share of the records it read
            fails (0 to 1).

    Raises:
        SyncFailedError: one or more streams failed; every other stream ran, the run is
            recorded as failed naming them, and what their complete batches committed stays
            (their bookmarks do not move).
        StoreError, ConfigError: the store or the configuration failed, so no stream can run;
            the run stops there.
    """
    streams = [s for s in connector.streams() if only is None or s.name in only]
    if only is not None and (unknown := set(only) - {s.name for s in streams}):
        raise FatalError(
            f"{connector.name} has no stream {', '.join(sorted(unknown))}; it syncs "
            + ", ".join(s.name for s in connector.streams())
        )
    mode = "full" if full else "incremental"
    report = SyncReport(connector.name, mode, dry_run)
    report.run_id = sink.start_run(connector.name, mode, dry_run)
    errors: dict[str, Exception] = {}
    try:
        for stream in streams:
            unreachable = next(
                (n for n, e in errors.items() if isinstance(e, SourceUnreachableError)), None
            )
            if unreachable is not None:  # the same host: retrying it per stream only waits
                report.failed[stream.name] = (
                    f"not tried: the source could not be reached (see {unreachable})"
                )
                continue
            try:
                _sync_stream(
                    connector,
                    stream,
                    sink,
                    report,
                    full=full,
                    dry_run=dry_run,
                    now=now,
                    on_progress=on_progress,
                    max_skipped_share=max_skipped_share,
                )
            except (StoreError, ConfigError):
                raise  # no stream can run: stop here
            except Exception as err:  # this stream failed; the others still run
                errors[stream.name] = err
                report.failed[stream.name] = _failure(err)
                log.error("%s stream %s failed: %s", connector.name, stream.name, _failure(err))
    except BaseException as err:
        sink.finish_run(report.run_id, report, error=f"{type(err).__name__}: {err}")
        raise
    if not report.failed:
        sink.finish_run(report.run_id, report, error=None)
        return report
    failed = "; ".join(f"{name}: {why}" for name, why in report.failed.items())
    ran = [s.name for s in streams if s.name not in report.failed]
    others = f" ({', '.join(ran)} synced)" if ran else ""
    message = (
        f"{connector.name} sync run {report.run_id} failed in {len(report.failed)} of "
        f"{len(streams)} streams{others}: {failed}"
    )
    sink.finish_run(report.run_id, report, error=message)
    first = next(iter(errors.values()), None)  # the cause, for callers that look deeper
    raise SyncFailedError(message, report=report, failed=dict(report.failed)) from first


def _failure(err: Exception) -> str:
    """What went wrong, in one line: our own errors say it; others give their kind and first
    line only (a database error's text would carry the row's values: personal data)."""
    if isinstance(err, MentorbridgeError):
        return str(err)
    cause = getattr(err, "orig", None) or err  # SQLAlchemy wraps the driver's error
    first = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first}" if first else type(cause).__name__


def _sync_stream(
    connector: Connector,
    stream: Stream,
    sink: SyncSink,
    report: SyncReport,
    *,
    full: bool,
    dry_run: bool,
    now: Callable[[], datetime],
    on_progress: Callable[[str, int], None] | None,
    max_skipped_share: float,
) -> None:
    counts = report.counts.setdefault(stream.name, StreamCounts())
    since = None if full or not stream.incremental else sink.bookmark(connector.name, stream.name)
    window = Window(since=since, until=now())
    schema = f"{connector.name}/{stream.name}"
    batch: list[dict[str, Any]] = []
    seen = skipped = fixable = 0

    def flush(bookmark: datetime | None) -> None:
        counts.add(
            sink.write(
                connector.name,
                stream.name,
                batch,
                bookmark=bookmark,
                run_id=report.run_id,
                dry_run=dry_run,
            )
        )
        batch.clear()

    for item in stream.records(window):
        seen += 1
        if isinstance(item, Skipped):
            skipped += 1
            fixable += item.fixable
            report.skip(stream.name, item.key, item.reason)
        elif problems := schemas.check(schema, item, root=stream.name):
            skipped += 1
            fixable += 1
            report.skip(
                stream.name,
                stream.key_of(item),
                "; ".join(f"{path}: {message}" for path, message in problems),
                kinds=list(dict.fromkeys(_problem_kind(p, m) for p, m in problems)),
            )
        else:
            batch.append(item)
            if len(batch) >= BATCH_SIZE:
                flush(None)
        if on_progress is not None and seen % BATCH_SIZE == 0:
            on_progress(stream.name, seen)
    too_many = skipped > 0 and skipped > max_skipped_share * seen
    # The bookmark moves only once the whole window is stored, and never past records the
    # admin can fix: the next run reads them again.
    flush(None if too_many or (fixable and stream.incremental) else window.until)
    if on_progress is not None:
        on_progress(stream.name, seen)
    if counts.merged:
        report.notes.append(f"{stream.name}: {_merged_note(stream.name, counts.merged)}")
    if too_many:
        raise _TooManySkipped(
            f"{skipped:,} of {seen:,} records skipped ({skipped / seen:.0%}; "
            f"workday.max_skipped_share allows {max_skipped_share:.0%}): "
            f"{report.reasons_text(stream.name)} — fix the report or the field mapping "
            "(workday.fields) and sync again; the bookmark did not move"
        )
    if fixable and stream.incremental:
        report.notes.append(
            f"{stream.name}: bookmark not moved: {fixable:,} skipped record(s) will be read "
            "again by the next run once fixed"
        )


class _TooManySkipped(MentorbridgeError):
    """A stream skipped more than its allowed share (the runner fails that stream)."""


def _merged_note(stream: str, merged: int) -> str:
    what = {
        "job_profile_competencies": "duplicate requirements merged (kept the highest required "
        "level)",
        "succession_plans": "duplicate candidates merged (kept the last listed)",
    }.get(stream, "duplicate records merged (kept the latest by last-updated, else the last read)")
    return f"{merged:,} {what}"
