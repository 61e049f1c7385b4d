"""Moodle connector: users, competency frameworks and evidence over REST web services."""
