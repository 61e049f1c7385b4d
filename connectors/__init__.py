"""Connectors to the systems of record: the HRIS (``workday``) and the LMS (``moodle``)."""
