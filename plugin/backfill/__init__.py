"""Bulk backfill: ``mentorbridge events import FILE`` records a file of past events through the
same checks and the same event processor as the webhook, in dependency order and in batches.

* :mod:`.lines`: what a file's lines become (a :class:`~.lines.Candidate` or a
  :class:`~.lines.Reject`), and JSON Lines of event envelopes, plain or signed;
* :mod:`.sessions_csv`: CSV of sessions exported from another platform, with its column
  mapping;
* :mod:`.order`: pairs before their sessions, sessions before what rests on them;
* :mod:`.importer`: the batches, each all or nothing, and the reject file.
"""

from mentorbridge.plugin.backfill.importer import ImportReport, import_events, write_rejects
from mentorbridge.plugin.backfill.lines import Candidate, Reject, read_jsonl
from mentorbridge.plugin.backfill.order import dependency_order
from mentorbridge.plugin.backfill.sessions_csv import COLUMNS, SessionColumns, read_sessions_csv

__all__ = [
    "COLUMNS",
    "Candidate",
    "ImportReport",
    "Reject",
    "SessionColumns",
    "dependency_order",
    "import_events",
    "read_jsonl",
    "read_sessions_csv",
    "write_rejects",
]
