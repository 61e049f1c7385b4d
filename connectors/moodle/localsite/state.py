"""What the local site's database holds: plain records, seeded like the recorded site.

Everything is public and can be inspected (and changed) by tests; the server takes
:attr:`SiteState.lock` around every call. Ids come from per-table sequences that, like
PostgreSQL's, are not given back when a call fails halfway.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ADMIN_ID",
    "GUEST_ID",
    "SEED_TIME",
    "STUDENT_ROLE",
    "WS_USER_ID",
    "ActivityCompletion",
    "Category",
    "Competency",
    "Course",
    "CourseCompetency",
    "CourseModule",
    "Enrolment",
    "Evidence",
    "Framework",
    "Plan",
    "PlanCompetency",
    "Scale",
    "SiteState",
    "User",
    "UserCompetency",
    "UserEvidence",
]

GUEST_ID, ADMIN_ID, WS_USER_ID = 1, 2, 3
STUDENT_ROLE = 5
#: When the recorded site was set up (course RMP created, integration user's password set).
SEED_TIME = 1795568077
SYSTEM_CONTEXT = 1
#: Standard roles of a fresh install: id -> shortname.
ROLES = {
    1: "manager",
    2: "coursecreator",
    3: "editingteacher",
    4: "teacher",
    5: "student",
    6: "guest",
    7: "user",
    8: "frontpage",
}


@dataclass
class User:
    """A ``user`` row (only what the functions read or write)."""

    id: int
    username: str
    firstname: str
    lastname: str
    email: str
    contextid: int
    auth: str = "manual"
    idnumber: str = ""
    department: str = ""
    institution: str = ""
    city: str = ""
    country: str = ""
    lang: str = "en"
    theme: str = ""
    timezone: str = "99"
    mailformat: int = 1
    description: str | None = None
    descriptionformat: int = 1
    phone1: str = ""
    phone2: str = ""
    address: str = ""
    suspended: bool = False
    confirmed: bool = True
    deleted: bool = False
    password_set: bool = False
    firstaccess: int = 0
    lastaccess: int = 0
    timecreated: int = 0
    timemodified: int = 0
    #: Other profile fields accepted and kept (middlename, maildisplay, ...).
    extra: dict[str, Any] = field(default_factory=dict)
    preferences: list[tuple[str, str]] = field(default_factory=list)

    @property
    def fullname(self) -> str:
        return f"{self.firstname} {self.lastname}"


@dataclass
class Scale:
    """A ``scale``: items are 1-based in ratings and scale configurations."""

    id: int
    name: str
    items: tuple[str, ...]


@dataclass
class Category:
    id: int
    name: str
    sortorder: int
    contextid: int


@dataclass
class CourseModule:
    """A course module; ``completion`` 0 none, 1 manual, 2 automatic."""

    id: int
    courseid: int
    modname: str
    instance: int
    name: str
    contextid: int
    completion: int = 1


@dataclass
class Course:
    id: int
    shortname: str
    fullname: str
    categoryid: int
    contextid: int
    sortorder: int
    idnumber: str = ""
    summary: str = ""
    summaryformat: int = 1
    format: str = "topics"
    showgrades: int = 1
    newsitems: int = 5
    startdate: int = 0
    enddate: int = 0
    maxbytes: int = 0
    showreports: int = 0
    visible: int = 1
    groupmode: int = 0
    groupmodeforce: int = 0
    defaultgroupingid: int = 0
    enablecompletion: int = 0
    completionnotify: int = 0
    lang: str = ""
    theme: str = ""
    timecreated: int = 0
    timemodified: int = 0
    cacherev: int = 0
    formatoptions: dict[str, Any] = field(
        default_factory=lambda: {"hiddensections": 1, "coursedisplay": 0, "indentation": "1"}
    )
    manual_enrol: bool = True
    #: Course completion: the activities (cmids) that must all be complete.
    completion_criteria: list[int] = field(default_factory=list)


@dataclass
class Enrolment:
    """A manual enrolment with its role assignments in the course."""

    courseid: int
    userid: int
    roleids: list[int]
    status: int = 0
    timestart: int = 0
    timeend: int = 0
    timecreated: int = 0


@dataclass
class ActivityCompletion:
    """A ``course_modules_completion`` row."""

    cmid: int
    userid: int
    state: int
    timemodified: int
    overrideby: int | None = None


@dataclass
class Framework:
    id: int
    shortname: str
    idnumber: str
    scaleid: int
    scaleconfiguration: str
    contextid: int
    description: str = ""
    descriptionformat: int = 1
    visible: bool = True
    taxonomies: str = ""
    timecreated: int = 0
    timemodified: int = 0
    usermodified: int = 0


@dataclass
class Competency:
    id: int
    shortname: str
    idnumber: str
    competencyframeworkid: int
    sortorder: int
    description: str = ""
    descriptionformat: int = 1
    parentid: int = 0
    path: str = "/0/"
    ruleoutcome: int = 0
    ruletype: str | None = None
    ruleconfig: str | None = None
    scaleid: int | None = None
    scaleconfiguration: str | None = None
    timecreated: int = 0
    timemodified: int = 0
    usermodified: int = 0


@dataclass
class CourseCompetency:
    id: int
    courseid: int
    competencyid: int
    sortorder: int
    ruleoutcome: int = 0
    timecreated: int = 0
    timemodified: int = 0
    usermodified: int = 0


@dataclass
class Plan:
    """A learning plan; ``status`` 0 draft, 1 active, 2 complete, 3 waiting, 4 in review."""

    id: int
    name: str
    userid: int
    status: int = 0
    description: str = ""
    descriptionformat: int = 1
    templateid: int | None = None
    origtemplateid: int | None = None
    duedate: int = 0
    reviewerid: int | None = None
    timecreated: int = 0
    timemodified: int = 0
    usermodified: int = 0


@dataclass
class PlanCompetency:
    id: int
    planid: int
    competencyid: int
    sortorder: int
    timecreated: int = 0


@dataclass
class Evidence:
    """A ``competency_evidence`` row: ``action`` 0 log, 2 complete, 3 override (a rating)."""

    id: int
    usercompetencyid: int
    contextid: int
    action: int
    descidentifier: str
    desccomponent: str = "core_competency"
    desca: str | None = None
    url: str | None = None
    grade: int | None = None
    note: str | None = None
    actionuserid: int | None = None
    timecreated: int = 0
    timemodified: int = 0
    usermodified: int = 0


@dataclass
class UserCompetency:
    """A user's rating of one competency, with its evidence in the order it was added."""

    id: int
    userid: int
    competencyid: int
    status: int = 0
    reviewerid: int | None = None
    proficiency: bool | None = None
    grade: int | None = None
    timecreated: int = 0
    timemodified: int = 0
    usermodified: int = 0
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class UserEvidence:
    """Evidence of prior learning (``competency_userevidence``), linked to competencies."""

    id: int
    userid: int
    name: str
    description: str = ""
    descriptionformat: int = 1
    url: str = ""
    competencyids: list[int] = field(default_factory=list)
    timecreated: int = 0
    timemodified: int = 0
    usermodified: int = 0


_SEED_SCALES = (
    Scale(
        1,
        "Separate and Connected ways of knowing",
        ("Mostly separate knowing", "Separate and connected", "Mostly connected knowing"),
    ),
    Scale(2, "Default competence scale", ("Not yet competent", "Competent")),
    Scale(
        3,
        "Succession readiness",
        ("Not yet demonstrated", "Developing", "Proficient", "Role model"),
    ),
)
_SEED_ACTIVITIES = (
    (2, 1, "Mentoring agreement"),
    (3, 2, "Reverse mentoring session log"),
    (4, 3, "Reflection: what I learned"),
)


class SiteState:
    """All the site's records, keyed by id (enrolments and completions by their natural keys).

    Attributes other than the record tables: ``competencies_enabled``, ``completion_enabled``
    (site-wide ``enablecompletion``), ``assignable_roles`` (what the integration user may assign
    in courses), ``system_role_users`` (who holds a role at system level) and ``lock``.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.competencies_enabled = True
        self.completion_enabled = True
        self.assignable_roles: set[int] = {STUDENT_ROLE}
        self.system_role_users: set[int] = {WS_USER_ID}
        self.users: dict[int, User] = {}
        self.scales: dict[int, Scale] = {}
        self.categories: dict[int, Category] = {}
        self.courses: dict[int, Course] = {}
        self.modules: dict[int, CourseModule] = {}
        self.frameworks: dict[int, Framework] = {}
        self.competencies: dict[int, Competency] = {}
        self.course_competencies: dict[int, CourseCompetency] = {}
        self.plans: dict[int, Plan] = {}
        self.plan_competencies: dict[int, PlanCompetency] = {}
        self.user_competencies: dict[int, UserCompetency] = {}
        #: Course ratings: (userid, courseid, competencyid) -> (grade, proficiency).
        self.user_competency_courses: dict[tuple[int, int, int], tuple[int | None, bool | None]]
        self.user_competency_courses = {}
        self.user_evidence: dict[int, UserEvidence] = {}
        self.enrolments: dict[tuple[int, int], Enrolment] = {}
        self.activity_completion: dict[tuple[int, int], ActivityCompletion] = {}
        #: Course completion criteria met: (courseid, userid, cmid) -> time.
        self.criteria_completions: dict[tuple[int, int, int], int] = {}
        #: Courses completed: (courseid, userid) -> time.
        self.course_completions: dict[tuple[int, int], int] = {}
        self._sequences: dict[str, int] = defaultdict(lambda: 1)
        self._uc_index: dict[tuple[int, int], UserCompetency] = {}
        #: Plans by user and plan competencies by plan, as the user competency index is
        #: kept: rebuilt when records were added to the tables directly.
        self._plans_index: dict[int, list[Plan]] = {}
        self._plans_indexed = 0
        self._pc_index: dict[int, list[PlanCompetency]] = {}
        self._pc_indexed = 0

    # Ids.
    def next_id(self, table: str) -> int:
        """The next id of ``table``; never reused, even when the call that took it fails."""
        with self.lock:
            value = self._sequences[table]
            self._sequences[table] = value + 1
            return value

    def set_sequence(self, table: str, next_value: int) -> None:
        """Make ``table``'s next id ``next_value``."""
        self._sequences[table] = next_value

    # Seeding.
    @classmethod
    def seeded(cls, *, course: bool = True, completion_criteria: bool = True) -> SiteState:
        """The recorded site before the recordings: users 1-3, three scales, category 1 and
        (unless ``course=False``) course 2 "RMP" with three manual-completion pages that are its
        completion criteria (none with ``completion_criteria=False``)."""
        state = cls()
        state.users[GUEST_ID] = User(
            GUEST_ID, "guest", "Guest user", " ", "root@localhost", contextid=0, auth="manual"
        )
        state.users[ADMIN_ID] = User(
            ADMIN_ID, "admin", "Admin", "User", "admin@example.com", contextid=5
        )
        state.users[WS_USER_ID] = User(
            WS_USER_ID,
            "ws_integration",
            "Integration",
            "Service",
            "ws_integration@example.com",
            contextid=11,
            idnumber="SVC-RM-INTEGRATION",
            password_set=True,
            timecreated=SEED_TIME,
            timemodified=SEED_TIME,
            preferences=[
                ("auth_manual_passwordupdatetime", str(SEED_TIME)),
                ("last_time_enrolments_synced", str(SEED_TIME + 3)),
            ],
        )
        for scale in _SEED_SCALES:
            state.scales[scale.id] = Scale(scale.id, scale.name, scale.items)
        state.categories[1] = Category(1, "Category 1", 10000, contextid=3)
        state.set_sequence("user", 4)
        state.set_sequence("scale", 4)
        state.set_sequence("course_categories", 2)
        state.set_sequence("course", 2)
        state.set_sequence("course_modules", 2)
        state.set_sequence("page", 1)
        state.set_sequence("context", 12)
        if course:
            state.courses[2] = Course(
                2,
                "RMP",
                "Reverse Mentoring Program",
                categoryid=1,
                contextid=state.next_id("context"),
                sortorder=10001,
                idnumber="RMP-2026",
                summary=(
                    "Junior employees mentor senior leaders; succession competencies are "
                    "tracked per participant."
                ),
                newsitems=1,
                startdate=SEED_TIME,
                enablecompletion=1,
                timecreated=SEED_TIME,
                timemodified=SEED_TIME,
                cacherev=SEED_TIME + 15,
            )
            state.set_sequence("course", 3)
            for cmid, instance, name in _SEED_ACTIVITIES:
                state.modules[cmid] = CourseModule(
                    cmid, 2, "page", instance, name, contextid=state.next_id("context")
                )
            state.set_sequence("course_modules", 5)
            state.set_sequence("page", 4)
            if completion_criteria:
                state.courses[2].completion_criteria = [cmid for cmid, _, _ in _SEED_ACTIVITIES]
        return state

    # Look-ups shared by the functions.
    def find_users(self, **fields: Any) -> list[User]:
        """Users (not deleted) whose attributes equal ``fields``, by id."""
        return [
            u
            for u in sorted(self.users.values(), key=lambda u: u.id)
            if not u.deleted and all(getattr(u, k) == v for k, v in fields.items())
        ]

    def has_role_assignment(self, userid: int) -> bool:
        """Whether the user holds any role anywhere (Moodle then shows their description)."""
        if userid in self.system_role_users:
            return True
        enrolments = (self.enrolments.get((courseid, userid)) for courseid in self.courses)
        return any(e is not None and e.roleids for e in enrolments)

    def is_enrolled(self, courseid: int, userid: int, roleid: int | None = None) -> bool:
        """Enrolled in the course (with ``roleid`` when given)."""
        enrolment = self.enrolments.get((courseid, userid))
        if enrolment is None:
            return False
        return roleid is None or roleid in enrolment.roleids

    def framework_of(self, competency: Competency) -> Framework:
        return self.frameworks[competency.competencyframeworkid]

    def scale_of(self, competency: Competency) -> tuple[Scale, str]:
        """The competency's scale and scale configuration (its own, else its framework's)."""
        if competency.scaleid is not None:
            return self.scales[competency.scaleid], competency.scaleconfiguration or ""
        framework = self.framework_of(competency)
        return self.scales[framework.scaleid], framework.scaleconfiguration

    def proficiency_of(self, competency: Competency, grade: int) -> bool:
        """Whether ``grade`` is a proficient item of the competency's scale configuration."""
        _, configuration = self.scale_of(competency)
        try:
            items = json.loads(configuration)[1:]
        except (ValueError, TypeError):
            return False
        return any(
            isinstance(item, dict) and item.get("id") == grade and bool(item.get("proficient"))
            for item in items
        )

    def user_competency(self, userid: int, competencyid: int) -> UserCompetency | None:
        """The user's user competency, if there is one (indexed; the index is rebuilt when
        records were added to :attr:`user_competencies` directly)."""
        if len(self._uc_index) != len(self.user_competencies):
            self._uc_index = {
                (u.userid, u.competencyid): u for u in self.user_competencies.values()
            }
        return self._uc_index.get((userid, competencyid))

    def get_or_create_user_competency(
        self, userid: int, competencyid: int, now: int, actor: int
    ) -> UserCompetency:
        """``api::get_user_competency``: it creates (and keeps) a missing one."""
        uc = self.user_competency(userid, competencyid)
        if uc is None:
            uc = UserCompetency(
                self.next_id("competency_usercomp"),
                userid,
                competencyid,
                timecreated=now,
                timemodified=now,
                usermodified=actor,
            )
            self.user_competencies[uc.id] = uc
            self._uc_index[(userid, competencyid)] = uc
        return uc

    def add_plan(self, plan: Plan) -> None:
        """Store a new plan (and index it by its user)."""
        in_step = self._plans_indexed == len(self.plans)
        self.plans[plan.id] = plan
        if in_step:
            self._plans_index.setdefault(plan.userid, []).append(plan)
            self._plans_indexed = len(self.plans)

    def plans_of(self, userid: int) -> list[Plan]:
        """The user's plans (indexed, like :meth:`user_competency`)."""
        if self._plans_indexed != len(self.plans):
            self._plans_index = defaultdict(list)
            for plan in self.plans.values():
                self._plans_index[plan.userid].append(plan)
            self._plans_index = dict(self._plans_index)
            self._plans_indexed = len(self.plans)
        return list(self._plans_index.get(userid, ()))

    def add_plan_competency(self, link: PlanCompetency) -> None:
        """Store a new plan competency (and index it by its plan)."""
        in_step = self._pc_indexed == len(self.plan_competencies)
        self.plan_competencies[link.id] = link
        if in_step:
            self._pc_index.setdefault(link.planid, []).append(link)
            self._pc_indexed = len(self.plan_competencies)

    def plan_competency_ids(self, planid: int) -> list[int]:
        if self._pc_indexed != len(self.plan_competencies):
            self._pc_index = defaultdict(list)
            for pc in self.plan_competencies.values():
                self._pc_index[pc.planid].append(pc)
            self._pc_index = dict(self._pc_index)
            self._pc_indexed = len(self.plan_competencies)
        links = self._pc_index.get(planid, ())
        return [pc.competencyid for pc in sorted(links, key=lambda pc: (pc.sortorder, pc.id))]

    def course_competency_links(self, courseid: int) -> list[CourseCompetency]:
        links = [cc for cc in self.course_competencies.values() if cc.courseid == courseid]
        return sorted(links, key=lambda cc: (cc.sortorder, cc.id))

    def add_evidence(
        self,
        uc: UserCompetency,
        *,
        contextid: int,
        action: int,
        descidentifier: str,
        now: int,
        actor: int | None,
        desca: str | None = None,
        url: str | None = None,
        grade: int | None = None,
        note: str | None = None,
    ) -> Evidence:
        """Append an evidence to a user competency (``desca`` is stored JSON-encoded)."""
        evidence = Evidence(
            self.next_id("competency_evidence"),
            uc.id,
            contextid,
            action,
            descidentifier,
            desca=None if desca is None else json.dumps(desca, ensure_ascii=False),
            url=url,
            grade=grade,
            note=note,
            actionuserid=actor,
            timecreated=now,
            timemodified=now,
            usermodified=actor or 0,
        )
        uc.evidence.append(evidence)
        uc.timemodified = now
        uc.usermodified = actor or 0
        return evidence

    def add_user_evidence(
        self,
        *,
        userid: int,
        name: str,
        now: int,
        site_url: str,
        description: str = "",
        url: str = "",
        competencyids: tuple[int, ...] = (),
        actor: int = ADMIN_ID,
    ) -> UserEvidence:
        """Create evidence of prior learning as Moodle's PHP API does (no WS function can):
        ``api::create_user_evidence`` then ``create_user_evidence_competency`` per competency,
        each link adding a log evidence "evidence of prior learning linked" to the user
        competency."""
        with self.lock:
            record = UserEvidence(
                self.next_id("competency_userevidence"),
                userid,
                name,
                description=description,
                url=url,
                timecreated=now,
                timemodified=now,
                usermodified=actor,
            )
            self.user_evidence[record.id] = record
            context = self.users[userid].contextid
            for competencyid in competencyids:
                record.competencyids.append(competencyid)
                uc = self.get_or_create_user_competency(userid, competencyid, now, actor)
                self.add_evidence(
                    uc,
                    contextid=context,
                    action=0,
                    descidentifier="evidence_evidenceofpriorlearninglinked",
                    now=now,
                    actor=actor,
                    desca=name,
                    url=f"{site_url}/admin/tool/lp/user_evidence.php?id={record.id}",
                )
            return record

    def course_of_module(self, cmid: int) -> Course:
        return self.courses[self.modules[cmid].courseid]

    def review_course_completion(self, courseid: int, userid: int, now: int) -> None:
        """Mark criteria met by completed activities; the course once all are met (aggregation
        "all"). Met criteria and a completed course stay so, as Moodle keeps those rows."""
        course = self.courses[courseid]
        if not course.completion_criteria:
            return
        for cmid in course.completion_criteria:
            done = self.activity_completion.get((cmid, userid))
            key = (courseid, userid, cmid)
            if done is not None and done.state in (1, 2) and key not in self.criteria_completions:
                self.criteria_completions[key] = done.timemodified
        met = all(
            (courseid, userid, cmid) in self.criteria_completions
            for cmid in course.completion_criteria
        )
        if met and (courseid, userid) not in self.course_completions:
            self.course_completions[(courseid, userid)] = now
