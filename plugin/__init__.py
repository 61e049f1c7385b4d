"""Mentorbridge: the service core (config, store, recorder, jobs, CLI)."""
