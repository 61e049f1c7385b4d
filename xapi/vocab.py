"""Every IRI Mentorbridge puts in a statement, and nowhere else.

Reused IRIs come from published vocabularies (ADL, Tin Can registry, Activity Streams, the TLA
verbs used by ADL's Learner Competency profile). Only what none of them has is defined by our
reverse-mentoring profile, under the configured profile IRI: :class:`ProfileVocabulary`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACHIEVED",
    "ATTENDED",
    "COMPETENCY",
    "DEFAULT_PROFILE_IRI",
    "GOAL",
    "MEETING",
    "MENTORED",
    "PLANNED",
    "PLANNED_DURATION",
    "PLANNED_START_TIME",
    "PROFILE_VERSION",
    "PROGRESSED",
    "SCHEDULED",
    "SUBMITTED",
    "VERB_DISPLAY",
    "VOIDED",
    "ProfileVocabulary",
]

# -- verbs ------------------------------------------------------------------------------------
ATTENDED = "http://adlnet.gov/expapi/verbs/attended"  # ADL
PROGRESSED = "http://adlnet.gov/expapi/verbs/progressed"  # ADL
VOIDED = "http://adlnet.gov/expapi/verbs/voided"  # xAPI Data 2.3.2
MENTORED = "http://id.tincanapi.com/verb/mentored"  # Tin Can registry
SCHEDULED = "http://activitystrea.ms/schedule"  # Activity Streams
SUBMITTED = "http://activitystrea.ms/submit"  # Activity Streams
PLANNED = "https://w3id.org/xapi/tla/verbs/planned"  # TLA, as in Learner Competency profile
ACHIEVED = "https://w3id.org/xapi/tla/verbs/achieved"  # TLA, as in Learner Competency profile

VERB_DISPLAY = {
    ATTENDED: "attended",
    PROGRESSED: "progressed",
    VOIDED: "voided",
    MENTORED: "mentored",
    SCHEDULED: "scheduled",
    SUBMITTED: "submitted",
    PLANNED: "planned",
    ACHIEVED: "achieved",
}

# -- activity types -----------------------------------------------------------------------------
MEETING = "http://adlnet.gov/expapi/activities/meeting"  # ADL
GOAL = "http://id.tincanapi.com/activitytype/goal"  # Tin Can registry
COMPETENCY = "https://w3id.org/xapi/tla/activity-types/competency"  # TLA

# -- extensions -----------------------------------------------------------------------------
PLANNED_START_TIME = "http://id.tincanapi.com/extension/planned-start-time"  # Tin Can registry
PLANNED_DURATION = "http://id.tincanapi.com/extension/planned-duration"  # Tin Can registry

# -- our profile ----------------------------------------------------------------------------
DEFAULT_PROFILE_IRI = "https://mentorbridge.example/xapi/profiles/reverse-mentoring"
PROFILE_VERSION = "1.0"


@dataclass(frozen=True, slots=True)
class ProfileVocabulary:
    """The IRIs the reverse-mentoring profile defines, rooted at its (configurable) IRI.

    Example:
        >>> ProfileVocabulary("https://xapi.acme.com/rm").reflection
        'https://xapi.acme.com/rm/activity-types/reflection'
    """

    profile_iri: str = DEFAULT_PROFILE_IRI

    @property
    def version(self) -> str:
        """The profile version IRI every statement carries in ``contextActivities.category``."""
        return f"{self.profile_iri}/v{PROFILE_VERSION}"

    def template(self, name: str) -> str:
        """IRI of a statement template (``session-attended`` …)."""
        return f"{self.profile_iri}/templates/{name}"

    @property
    def pattern(self) -> str:
        """IRI of the primary pattern, evaluated per pair registration."""
        return f"{self.profile_iri}/patterns/mentoring-pair"

    @property
    def programme(self) -> str:
        """Activity type: a reverse-mentoring programme (cohort or cycle)."""
        return f"{self.profile_iri}/activity-types/programme"

    @property
    def pair(self) -> str:
        """Activity type: one mentoring relationship, an executive and a junior mentor."""
        return f"{self.profile_iri}/activity-types/mentoring-pair"

    @property
    def reflection(self) -> str:
        """Activity type: a private reflection kept in Mentorbridge; only its IRI travels."""
        return f"{self.profile_iri}/activity-types/reflection"

    @property
    def target_date(self) -> str:
        """Context extension: the date (ISO 8601) a goal should be reached by."""
        return f"{self.profile_iri}/extensions/target-date"

    @property
    def visibility(self) -> str:
        """Context extension: who may read a reflection (``private``, ``pair``, ``released``)."""
        return f"{self.profile_iri}/extensions/visibility"

    @property
    def level_name(self) -> str:
        """Result extension: the name of the level reached (``Developing``)."""
        return f"{self.profile_iri}/extensions/level-name"

    @property
    def pair_side(self) -> str:
        """Context extension: the side of their pairs the evidence is for (``mentee``,
        ``mentor``)."""
        return f"{self.profile_iri}/extensions/pair-side"

    @property
    def evidence_source(self) -> str:
        """Context extension: who judged the progress (``self-rating``, ``peer-rating``)."""
        return f"{self.profile_iri}/extensions/evidence-source"
