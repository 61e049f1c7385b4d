"""xAPI: the reverse-mentoring profile, statement builders, validation, LRS client, outbox."""
