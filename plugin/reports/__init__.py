"""Read-only views of the store for people: learner transcripts (and, later, talent reports)."""
