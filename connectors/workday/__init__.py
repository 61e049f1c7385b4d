"""Workday connector: workers, organisations, competencies and succession plans."""
