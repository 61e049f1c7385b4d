"""Read-only views of the store for people: learner transcripts, and the succession and programme
impact reports talent teams pull into succession reviews (:mod:`.table` says what a report is)."""
