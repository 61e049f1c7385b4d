"""The connector contract, and the one sync loop every connector runs in.

A :class:`Connector` names its :class:`Stream` objects; a stream knows its name, primary key
and whether it can read incrementally, and yields normalised records (or :class:`Skipped`
markers for records it could not read). :func:`run_sync` owns the rest: validation of each
record against ``schemas/<connector>/<stream>.schema.json``, batched upserts through a
:class:`SyncSink`, bookmarks committed in the same transaction as the records they cover, and
the :class:`SyncReport`. A record that fails validation is skipped, counted and reported; a
source that fails (a page still failing after its retries) fails the run, loudly.
"""

from __future__ import annotations

import logging
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, TypeVar

from mentorbridge import schemas
from mentorbridge.plugin.errors import FatalError

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
]

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH_SIZE = 500
MAX_REPORTED_SKIPS = 200


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
    """A record the source sent but a stream could not read; it is counted and reported."""

    key: str
    reason: str


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
    #: What the sink could not join after the run (workers whose organisation or manager it
    #: does not know); empty for a dry run or a sink that does not check.
    consistency: dict[str, Any] = field(default_factory=dict)

    def skip(self, stream: str, key: str, reason: str) -> None:
        self.counts.setdefault(stream, StreamCounts()).skipped += 1
        if len(self.skips) < MAX_REPORTED_SKIPS:
            self.skips.append({"stream": stream, "key": key, "reason": reason})
        log.warning("skipped %s record %s: %s", stream, key, reason)


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
) -> SyncReport:
    """Sync every stream of ``connector`` (or the ``only`` ones) into ``sink``.

    Args:
        full: read everything, even where a stream could read only what changed.
        dry_run: count what would change, write nothing (bookmarks stay where they are).
        only: names of the streams to sync.
        on_progress: called with the stream name and the records seen so far.

    Raises:
        FatalError, RetriableError: the source failed; the run is recorded as failed, and what
            earlier batches committed stays (with the bookmark of the last complete stream).
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
    try:
        for stream in streams:
            _sync_stream(
                connector,
                stream,
                sink,
                report,
                full=full,
                dry_run=dry_run,
                now=now,
                on_progress=on_progress,
            )
    except BaseException as err:
        sink.finish_run(report.run_id, report, error=f"{type(err).__name__}: {err}")
        raise
    sink.finish_run(report.run_id, report, error=None)
    return report


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
) -> None:
    counts = report.counts.setdefault(stream.name, StreamCounts())
    since = None if full or not stream.incremental else sink.bookmark(connector.name, stream.name)
    window = Window(since=since, until=now())
    schema = f"{connector.name}/{stream.name}"
    batch: list[dict[str, Any]] = []
    seen = 0

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
            report.skip(stream.name, item.key, item.reason)
        elif problems := schemas.check(schema, item, root=stream.name):
            report.skip(
                stream.name,
                stream.key_of(item),
                "; ".join(f"{path}: {message}" for path, message in problems),
            )
        else:
            batch.append(item)
            if len(batch) >= BATCH_SIZE:
                flush(None)
        if on_progress is not None and seen % BATCH_SIZE == 0:
            on_progress(stream.name, seen)
    # The bookmark moves only once the whole window is stored.
    flush(window.until)
    if on_progress is not None:
        on_progress(stream.name, seen)
