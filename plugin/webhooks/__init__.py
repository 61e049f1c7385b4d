"""Webhook events: how they are signed, checked, and turned into records and statements.

Nothing here knows about Flask: :mod:`plugin.web` puts it behind HTTP, and the CLI, the demo
and the benchmark sign and send events with :mod:`plugin.webhooks.sender`.
"""
