"""Mentorbridge as an LTI 1.3 Advantage tool: installed in an LMS by dynamic or manual
registration, launched from a course (learners see their transcript, instructors the programme
dashboard), with deep linking, the roster (NRPS) and the gradebook (AGS).

Routes live in :mod:`mentorbridge.plugin.web.lti`; the CLI in ``mentorbridge lti``.
"""
