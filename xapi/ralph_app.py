"""Ralph's LRS API on its file-system backend, with two bugs of Ralph 4.2 to 5.1 fixed.

Import this module instead of ``ralph.api``: the fixes must be in place before Ralph builds its
backend, and Ralph reads its settings (``RALPH_*`` variables) at import, so set those first
(:class:`xapi.localrs.LocalLRS` does). For trials and tests only, never production.

1. The FS backend writes with operation type CREATE, so every write after the first fails
   ("already exists and overwrite is not allowed"): append instead.
2. The ``verb`` and ``activity`` filters compare Ralph's ``IRI`` model to a ``str`` and never
   match: compare strings.
"""

import importlib
from typing import Any

from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

_query_statements = FSLRSBackend.query_statements


def _query_statements_with_string_iris(self: FSLRSBackend, params: Any, target: Any = None) -> Any:
    update = {
        name: str(getattr(params, name))
        for name in ("verb", "activity")
        if getattr(params, name, None) is not None
    }
    return _query_statements(self, params.model_copy(update=update) if update else params, target)


FSLRSBackend.query_statements = _query_statements_with_string_iris

app = importlib.import_module("ralph.api").app  # only now: the fixes above must come first

__all__ = ["app"]
