"""Generating the people half of a tenant: the hierarchy, organisations and workers.

The company has one CEO, then senior executives, VPs, directors and managers, each heading a
supervisory organisation nested like the reporting lines, and contributors below. Into it go
the awkward cases every real tenant has: no work email, contingent workers, second jobs, past
and future terminations, rehires and names in many scripts. Every draw comes from one seeded
``random.Random``, in a fixed order, and the work is linear in the number of workers.
"""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta

from mentorbridge.connectors.workday.sample import catalogue as cat
from mentorbridge.connectors.workday.sample import talent
from mentorbridge.connectors.workday.sample.model import Change, Record, Tenant, is_active

__all__ = ["Builder"]

#: Workers per level (2 to 5) in a tenant of 500; the rest are individual contributors.
_LEVEL_SHARES = {2: 8, 3: 20, 4: 40, 5: 70}
_ROMAN = {1: "I", 2: "II", 3: "III"}


def _level_counts(size: int) -> dict[int, int]:
    counts, remaining = {1: 1}, size - 1
    for level, share in _LEVEL_SHARES.items():
        counts[level] = min(remaining, max(1, round(size * share / 500)))
        remaining -= counts[level]
    counts[6] = remaining
    return counts


def _email_local(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name.replace("'", "")).encode("ascii", "ignore")
    return ".".join(re.findall(r"[a-z0-9]+", plain.decode().lower()))


class Builder:
    """Builds one tenant; every random draw goes through ``self.rng``, in a fixed order."""

    def __init__(self, size: int, seed: int, today: date, name: str) -> None:
        self.size, self.today, self.name = size, today, name
        self.rng = random.Random(seed)
        self.tenant = Tenant(name=name, today=today)
        self.domain = f"{name}.example"
        self._emails: dict[str, int] = {}

    def build(self) -> Tenant:
        """The whole tenant: hierarchy, people, organisations, second jobs, talent data."""
        self._plan_hierarchy()
        self._plan_people()
        self._plan_organizations()
        for i in range(self.size):
            self.tenant.workers.append(self._worker(i))
        self._add_second_jobs()
        self._add_talent()
        return self.tenant

    # The shape of the company: who is at which level, reporting to whom, in which function.
    def _plan_hierarchy(self) -> None:
        counts = _level_counts(self.size)
        self.levels = [level for level, count in counts.items() for _ in range(count)]
        self.by_level: dict[int, list[int]] = {level: [] for level in counts}
        for i, level in enumerate(self.levels):
            self.by_level[level].append(i)
        self.manager: list[int | None] = [None] * self.size
        self.function = [cat.EXECUTIVE_OFFICE] * self.size
        ceo_reports = 0
        for level in range(2, 7):
            bosses = next(self.by_level[up] for up in range(level - 1, 0, -1) if self.by_level[up])
            directors = self.by_level[4]
            for k, i in enumerate(self.by_level[level]):
                # One contributor in ten reports straight to a director.
                pool = directors if level == 6 and directors and k % 10 == 9 else bosses
                boss = pool[(k // 10 if pool is directors else k) % len(pool)]
                self.manager[i] = boss
                if boss == 0:
                    self.function[i] = cat.FUNCTIONS[ceo_reports % len(cat.FUNCTIONS)]
                    ceo_reports += 1
                else:
                    self.function[i] = self.function[boss]

    # Who is special: contingent, terminated, rehired, junior, or a pinned awkward name.
    def _plan_people(self) -> None:
        rng, size = self.rng, self.size
        contributors = self.by_level[6]
        self.special: dict[int, cat.SpecialPerson] = {}
        seniors = [p for p in cat.SPECIAL_PEOPLE if p.senior]
        others = [p for p in cat.SPECIAL_PEOPLE if not p.senior]
        for person, i in zip(seniors, self.by_level[2], strict=False):
            self.special[i] = person
        step = max(1, len(contributors) // (len(others) + 1))
        for person, i in zip(others, contributors[step::step], strict=False):
            self.special[i] = person
        shuffled = [i for i in contributors if i not in self.special]
        rng.shuffle(shuffled)
        sizes = {
            "contingent": round(size * 0.05),
            "terminated": round(size * 0.04),
            "rehired": max(1, round(size * 0.004)) if size >= 10 else 0,
        }
        self.groups: dict[str, set[int]] = {}
        start = 0
        for group, count in sizes.items():
            self.groups[group] = set(shuffled[start : start + count])
            start += count
        terminated = sorted(self.groups["terminated"])
        self.future_terminations = set(terminated[: max(1, len(terminated) // 5)])
        juniors = round(len(contributors) * 0.25)
        self.juniors = set(shuffled[start : start + juniors])
        self.juniors.update(i for i, p in self.special.items() if not p.senior)
        self.employee_ids: list[str] = []
        employees = contingents = 0
        for i in range(size):
            if i in self.groups["contingent"]:
                contingents += 1
                self.employee_ids.append(f"C-{10000 + contingents}")
            else:
                employees += 1
                self.employee_ids.append(str(10000 + employees))
        self.names = [self._name(i) for i in range(size)]

    def _name(self, i: int) -> tuple[str, str, cat.Location]:
        rng = self.rng
        site = rng.choices(cat.LOCATIONS, cum_weights=_CUMULATIVE_WEIGHTS)[0]
        culture = rng.choice(_CULTURES[site.location_id])
        firsts, lasts = cat.NAMES[culture]
        first, last = rng.choice(firsts), rng.choice(lasts)
        legal = f"{last}{first}" if culture == "zh" else f"{first} {last}"
        preferred = legal
        if culture != "zh" and rng.random() < 0.12:
            preferred = f"{rng.choice(cat.PREFERRED_FIRST_NAMES)} {last}"
        person = self.special.get(i)
        if person is not None:
            site = next(s for s in cat.LOCATIONS if s.location_id == person.location_id)
            legal, preferred = person.legal_name, person.preferred_name
        return legal, preferred, site

    # One supervisory organisation per manager, nested like the reporting lines.
    def _plan_organizations(self) -> None:
        self.org_of: dict[int, Record] = {}
        self.team: dict[int, str] = {}
        for i in range(self.size):
            if self.levels[i] == 6:
                continue
            function = self.function[i]
            if self.levels[i] == 1:
                unit = f"{self.name.title()} Group"
            elif self.levels[i] == 2:
                unit = function.name
            else:
                unit = self.rng.choice(function.teams)
            self.team[i] = unit
            boss = self.manager[i]
            org = {
                "organization_id": f"SUP-{len(self.org_of) + 1:05d}",
                "name": f"{unit} ({self.names[i][1]})",
                "type": "Supervisory",
                "superior_organization_id": None
                if boss is None
                else self.org_of[boss]["organization_id"],
                "manager_employee_id": self.employee_ids[i],
                "inactive": False,
            }
            self.org_of[i] = org
            self.tenant.organizations.append(org)
        if self.size >= 20:  # a dissolved team: no manager, no members
            self.tenant.organizations.append(
                {
                    "organization_id": f"SUP-{len(self.org_of) + 1:05d}",
                    "name": "Legacy Programmes",
                    "type": "Supervisory",
                    "superior_organization_id": self.org_of[0]["organization_id"],
                    "manager_employee_id": None,
                    "inactive": True,
                }
            )

    def _job(self, i: int) -> tuple[str, str, str]:
        """(job profile id, job profile name, business title) for worker ``i``."""
        level, function = self.levels[i], self.function[i]
        code, team = function.code, self.team.get(i)
        if level == 1:
            return "JP-EXO-CEO", "Chief Executive Officer", "Chief Executive Officer"
        if level == 2:
            return f"JP-{code}-EXEC", function.executive_title, function.executive_title
        if level == 3:
            return f"JP-{code}-VP", f"Vice President, {function.name}", f"Vice President, {team}"
        if level == 4:
            return f"JP-{code}-DIR", f"Director, {function.name}", f"Director, {team}"
        if level == 5:
            return f"JP-{code}-MGR", function.manager_title, f"{function.manager_title}, {team}"
        index = self.rng.randrange(len(function.contributor_titles))
        base = function.contributor_titles[index]
        if i in self.groups["contingent"]:
            return f"JP-{code}-CTR", f"Contractor, {function.name}", f"{base} (Contractor)"
        grade = 1 if i in self.juniors else self.rng.choice((2, 2, 2, 3, 3))
        title = {1: f"Graduate {base}", 2: base, 3: f"Senior {base}"}[grade]
        return f"JP-{code}-IC{index + 1}-G{grade}", f"{base} {_ROMAN[grade]}", title

    def _hire_days_ago(self, i: int) -> int:
        rng, level = self.rng, self.levels[i]
        if i in self.juniors:
            return rng.randint(30, 720)
        if i in self.groups["contingent"]:
            return rng.randint(60, 900)
        low, high = {1: (8, 20), 2: (3, 18), 3: (2, 15), 4: (2, 15), 5: (2, 12)}.get(level, (2, 12))
        return rng.randint(low * 365, high * 365)

    def _generation(self, i: int) -> str | None:
        if self.rng.random() < 0.06:
            return None
        if i in self.juniors:
            return "Gen Z"
        choices = {
            1: ("Gen X", "Baby Boomer"),
            2: ("Gen X", "Gen X", "Baby Boomer"),
            3: ("Gen X", "Millennial"),
            4: ("Gen X", "Millennial"),
        }.get(self.levels[i], ("Millennial", "Millennial", "Gen X", "Gen Z"))
        return self.rng.choice(choices)

    def _moment(self, day: date) -> datetime:
        """A moment in office hours (UTC) on ``day``, on the quarter hour."""
        minutes = self.rng.randrange(32, 72) * 15
        return datetime.combine(day, time(minutes // 60, minutes % 60), UTC)

    def _worker(self, i: int) -> Record:
        rng, today = self.rng, self.today
        legal, preferred, site = self.names[i]
        profile_id, profile, title = self._job(i)
        wid = f"{rng.getrandbits(128):032x}"
        hire = today - timedelta(days=self._hire_days_ago(i))
        original_hire, termination = hire, None
        changes = []
        if i in self.groups["rehired"]:
            original_hire = today - timedelta(days=rng.randint(6 * 365, 14 * 365))
            left = original_hire + timedelta(days=rng.randint(365, 4 * 365))
            hire = min(left + timedelta(days=rng.randint(180, 900)), today - timedelta(days=30))
            changes += [
                Change(wid, self._moment(left - timedelta(days=20)), left, "Termination"),
                Change(wid, self._moment(hire - timedelta(days=14)), hire, "Rehire"),
            ]
        if i in self.future_terminations:
            termination = today + timedelta(days=rng.randint(5, 60))
            entered = self._moment(today - timedelta(days=rng.randint(1, 20)))
            changes.append(Change(wid, entered, termination, "Termination"))
        elif i in self.groups["terminated"]:
            termination = today - timedelta(days=rng.randint(1, 365))
            if hire > termination - timedelta(days=30):
                hire = original_hire = termination - timedelta(days=rng.randint(200, 2000))
            # Some terminations are keyed in after the fact, some ahead of time.
            entered_on = min(
                termination + timedelta(days=rng.randint(-14, 5)), today - timedelta(days=1)
            )
            changes.append(Change(wid, self._moment(entered_on), termination, "Termination"))
        changes.insert(
            0, Change(wid, self._moment(original_hire - timedelta(days=14)), original_hire, "Hire")
        )
        last_day = min(today, termination or today) - timedelta(days=1)
        update_day = hire + timedelta(days=rng.randint(0, max(0, (last_day - hire).days)))
        changes.append(Change(wid, self._moment(update_day), update_day, "Edit Worker"))
        changes.sort(key=lambda change: change.entered_at)
        self.tenant.changes.extend(changes)
        self.tenant.positions[wid] = f"P-{i + 1:05d}"
        boss = self.manager[i]
        org = self.org_of[0] if boss is None else self.org_of[boss]
        return {
            "workday_id": wid,
            "employee_id": self.employee_ids[i],
            "worker_type": "contingent" if i in self.groups["contingent"] else "employee",
            "legal_name": legal,
            "preferred_name": preferred,
            "work_email": self._email(legal, i),
            "business_title": title,
            "job_profile_id": profile_id,
            "job_profile": profile,
            "management_level": cat.MANAGEMENT_LEVELS[self.levels[i]],
            "supervisory_organization_id": org["organization_id"],
            "supervisory_organization": org["name"],
            "manager_employee_id": None if boss is None else self.employee_ids[boss],
            "location": site.name,
            "country": site.country,
            "time_zone": site.time_zone,
            "hire_date": hire.isoformat(),
            "original_hire_date": original_hire.isoformat(),
            "active": is_active(termination, today),
            "termination_date": termination.isoformat() if termination else None,
            "additional_jobs": [],
            "last_updated": changes[-1].entered_at.isoformat(),
            "birth_generation": self._generation(i),
            "gender": None if rng.random() < 0.05 else rng.choice(cat.GENDERS),
            "ethnicity": None if rng.random() < 0.1 else rng.choice(cat.ETHNICITIES),
        }

    def _email(self, legal: str, i: int) -> str | None:
        if i and self.rng.random() < 0.05:
            return None
        local = _email_local(legal) or f"w{self.employee_ids[i].lower()}"
        seen = self._emails.get(local, 0)
        self._emails[local] = seen + 1
        return f"{local}{seen + 1 if seen else ''}@{self.domain}"

    def _add_second_jobs(self) -> None:
        workers = self.tenant.workers
        candidates = [
            i
            for i, w in enumerate(workers)
            if i and w["worker_type"] == "employee" and w["termination_date"] is None
        ]
        chosen = sorted(self.rng.sample(candidates, min(len(candidates), round(self.size * 0.03))))
        orgs = [o["organization_id"] for o in self.tenant.organizations if not o["inactive"]]
        self.next_position = self.size + 1
        for i in chosen:
            profile_id, title = self.rng.choice(cat.ADDITIONAL_JOBS)
            workers[i]["additional_jobs"].append(
                {
                    "position_id": f"P-{self.next_position:05d}",
                    "business_title": title,
                    "job_profile_id": profile_id,
                    "supervisory_organization_id": self.rng.choice(orgs),
                }
            )
            self.next_position += 1

    def _add_talent(self) -> None:
        tenant, rng = self.tenant, self.rng
        tenant.competencies = talent.competency_library(self.name)
        tenant.competency_assessments = talent.assessments(
            rng, tenant.workers, self.levels, tenant.competencies, self.today
        )
        profiles: dict[str, tuple[str, int]] = {}
        for worker, level in zip(tenant.workers, self.levels, strict=True):
            profiles.setdefault(worker["job_profile_id"], (worker["job_profile"], level))
            for job in worker["additional_jobs"]:
                profiles.setdefault(job["job_profile_id"], (job["business_title"], 6))
        tenant.job_profile_competencies = talent.job_profile_requirements(
            rng, profiles, tenant.competencies
        )
        tenant.succession_plans = talent.succession_plans(
            rng, tenant.workers, self.levels, tenant.positions, self.next_position, self.today
        )


_CULTURES = {site.location_id: tuple(site.cultures.split()) for site in cat.LOCATIONS}
_CUMULATIVE_WEIGHTS = [
    sum(site.weight for site in cat.LOCATIONS[: k + 1]) for k in range(len(cat.LOCATIONS))
]
