"""Pairing benchmark: 5,000 executives x 50,000 junior mentors from a generated tenant, the full
path (pool read from the store, then ``plan_pairs``) against a greedy baseline and the optimum.

A seeded tenant is written straight into a fresh SQLite store (bulk Core inserts): a CEO, a
reporting hierarchy of senior executives, vice presidents, directors and managers with the
juniors under them, supervisory organisations in the same hierarchy, IANA time zones over five
regions (so some pairs miss the two shared working hours), management levels, hire dates, an
earlier programme whose active pairs take some juniors' first-time-mentor points, and intake
rows for both sides. Themes are skewed: executives mostly want what few juniors offer, so good
mentors are scarce and executives compete for them.

Each measured run is a child process of its own (time measured inside it, peak RSS from its
``VmHWM``, as the other benchmarks do):

* ``plan``        ``load_pool`` + ``plan_pairs(objective="best")`` with the programme's candidates
                  (200 per executive): the feature as shipped;
* ``greedy``      over the same candidate edges: highest score first, taken when both people still
                  have capacity (the baseline; it lives here, not in the plugin);
* ``greedy-all``  the same greedy over every feasible edge (each executive's list is refilled
                  from a full row of scores when their 200 candidates are all taken);
* ``optimum``     the exact optimum over every feasible edge: the candidates' linear programme
                  solved with its duals, then every one of the 250 million executive x mentor
                  cells priced against them (a Lagrangian bound, valid for any duals), columns
                  with a positive reduced cost added and the programme solved again until none
                  is left: then the optimum over the candidates is the optimum over all edges;
* ``plan`` again with 1,000 candidates per executive (``--more-candidates``): the plugin's own
  way to a better plan, raising ``candidates`` in the pairing file;
* ``lapjv``       not the plugin: the plugin's pool, scores and candidates assigned by SciPy's
                  sparse Jonker-Volgenant matching instead of HiGHS, at 200 and 1,000
                  candidates, to show what another exact solver of the same problem costs;
* ``profile``     the full path under cProfile, when a time or memory target is missed (or
                  with ``--profile``).

A smaller tenant (500 x 5,000) runs the same, plus ``plan`` with candidates enough to be
complete (``plan.complete``): the exact optimum computed by the plugin itself, which the
default candidates and the ``optimum`` method are compared with; and the refilling greedy
started from lists of 5, which must agree with the greedy over every edge.

See bench/README.md for the targets and the last figures.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import heapq
import io
import json
import os
import platform
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from sqlalchemy import func, insert, select

from bench.common import ROOT, peak_rss_mb
from mentorbridge.plugin.pairing.file import load_programmes
from mentorbridge.plugin.pairing.plan import plan_pairs
from mentorbridge.plugin.pairing.pool import Pool, load_pool
from mentorbridge.plugin.pairing.programme import PairingProgramme
from mentorbridge.plugin.pairing.score import Scorer
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisOrganization, HrisWorker
from mentorbridge.plugin.store.migrate import upgrade
from mentorbridge.plugin.store.models import Pair, Person, Programme
from mentorbridge.plugin.store.pairing_models import PairingIntake

TODAY = date(2026, 12, 1)
PROGRAMME = "rm-2026"
BATCH = 10_000
EPS = 1e-6

TARGET_SECONDS = 60.0
TARGET_RSS_MB = 2048.0
TARGET_SHARE = 0.99

LEVELS = {
    1: "1 Chief Executive",
    2: "2 Senior Executive",
    3: "3 Vice President",
    4: "4 Director",
    5: "5 Manager",
    6: "6 Individual Contributor",
}

#: zone, country, a language besides English, weight for executives, for everyone else.
ZONES = [
    ("America/New_York", "US", None, 22, 9),
    ("America/Chicago", "US", None, 8, 5),
    ("America/Los_Angeles", "US", None, 8, 6),
    ("America/Toronto", "CA", "fr", 3, 3),
    ("America/Mexico_City", "MX", "es", 2, 4),
    ("America/Sao_Paulo", "BR", "pt", 3, 6),
    ("Europe/London", "GB", None, 16, 8),
    ("Europe/Berlin", "DE", "de", 9, 6),
    ("Europe/Paris", "FR", "fr", 7, 5),
    ("Europe/Madrid", "ES", "es", 3, 4),
    ("Europe/Warsaw", "PL", "pl", 1, 6),
    ("Africa/Johannesburg", "ZA", None, 1, 3),
    ("Asia/Dubai", "AE", "ar", 2, 2),
    ("Asia/Kolkata", "IN", "hi", 4, 14),
    ("Asia/Singapore", "SG", "zh", 4, 5),
    ("Asia/Shanghai", "CN", "zh", 2, 5),
    ("Asia/Tokyo", "JP", "ja", 3, 4),
    ("Australia/Sydney", "AU", None, 2, 5),
]

#: The shipped programme's themes: how often executives rank each one, and how often juniors
#: offer it. Executives want generative AI and Gen Z customers; juniors mostly offer social
#: media and collaboration tools, so the mentors executives want most are the scarcest.
THEMES = [
    # theme, executives' weight, juniors' weight
    ("generative AI at work", 34, 4),
    ("Gen Z customers", 20, 6),
    ("hybrid work", 12, 10),
    ("collaboration tools", 8, 22),
    ("inclusive leadership", 10, 6),
    ("social media", 6, 26),
    ("customer communities", 5, 12),
    ("mobile-first service", 5, 14),
]

FUNCTIONS = [
    "Sales",
    "Marketing",
    "Finance",
    "Technology",
    "Operations",
    "People",
    "Legal",
    "Product",
    "Customer Service",
    "Supply Chain",
    "Strategy",
    "Risk",
]


# -- the tenant ---------------------------------------------------------------------------------


def write_tenant(store: Store, *, executives: int, juniors: int, seed: int = 2026) -> dict:
    """Write the HRIS mirror, an earlier programme's pairs and the intake of ``PROGRAMME``:
    exactly ``executives`` workers eligible as mentees and ``juniors`` as mentors."""
    rng = random.Random(seed)
    level2 = max(1, executives // 10)
    heads = min(len(FUNCTIONS), level2)
    counts = {
        2: level2,
        3: executives - level2,
        4: executives * 3 // 5,
        5: executives * 7 // 5,
    }
    people: list[dict[str, Any]] = []  # index = id - 1

    def add(level: int, manager: int | None, **extra: Any) -> int:
        n = len(people) + 1
        boss = people[manager - 1] if manager else None
        if boss is not None and rng.random() < (0.85 if level == 6 else 0.6):
            zone = boss["zone"]
        else:
            weights = [z[3] if level <= 3 else z[4] for z in ZONES]
            zone = rng.choices(range(len(ZONES)), weights)[0]
        leads = level < 6
        people.append(
            {
                "n": n,
                "level": level,
                "manager": manager,
                "zone": zone,
                "org": f"SUP_{n:06d}" if leads else boss["org"],
                "org_name": None,
                "parent_org": boss["org"] if (leads and boss) else None,
                "type": "employee",
                "active": True,
                **extra,
            }
        )
        return n

    ceo = add(1, None)
    people[0]["org_name"] = "Company"
    by_level: dict[int, list[int]] = {2: []}
    for k in range(heads):
        n = add(2, ceo)
        people[n - 1]["org_name"] = FUNCTIONS[k]
        by_level[2].append(n)
    function_heads = list(by_level[2])
    for _ in range(counts[2] - heads):
        by_level[2].append(add(2, rng.choice(function_heads)))
    by_level[3] = [add(3, rng.choice(by_level[2])) for _ in range(counts[3])]
    by_level[4] = [add(4, rng.choice(by_level[3])) for _ in range(counts[4])]
    by_level[5] = [
        add(5, rng.choice(by_level[4] if rng.random() < 0.8 else by_level[3]))
        for _ in range(counts[5])
    ]
    managers = by_level[5]
    junior_ids = [add(6, rng.choice(managers), tenure=rng.randint(1, 729)) for _ in range(juniors)]
    # Not eligible as mentors: experienced individual contributors, contingent workers hired
    # recently, and juniors who have left.
    for _ in range(juniors // 4):
        add(6, rng.choice(managers), tenure=rng.randint(731, 6000))
    for _ in range(juniors // 40):
        add(6, rng.choice(managers), tenure=rng.randint(1, 700), type="contingent")
    for _ in range(juniors // 100):
        add(6, rng.choice(managers), tenure=rng.randint(1, 700), active=False)
    executive_ids = by_level[2] + by_level[3]

    persons, workers, organisations = [], [], []
    for p in people:
        zone, country, _lang, _, _ = ZONES[p["zone"]]
        tenure = p.get("tenure") or rng.randint(800 if p["level"] > 3 else 365, 10_000)
        manager = people[p["manager"] - 1] if p["manager"] else None
        employee_id = f"E{p['n']:06d}"
        persons.append(
            {
                "id": p["n"],
                "worker_id": employee_id,
                "opaque_id": f"p-{p['n']:020x}",
                "active": p["active"],
            }
        )
        workers.append(
            {
                "workday_id": f"wid-{p['n']:06d}",
                "employee_id": employee_id,
                "person_id": p["n"],
                "worker_type": p["type"],
                "legal_name": f"Worker {p['n']}",
                "work_email": f"e{p['n']}@example.com",
                "business_title": LEVELS[p["level"]].partition(" ")[2],
                "management_level": LEVELS[p["level"]],
                "supervisory_organization_id": p["org"],
                "supervisory_organization": f"Organisation {p['org']}",
                "manager_employee_id": f"E{manager['n']:06d}" if manager else None,
                "location": zone.rpartition("/")[2].replace("_", " "),
                "country": country,
                "time_zone": zone,
                "hire_date": TODAY - timedelta(days=tenure),
                "active": p["active"],
                "termination_date": None if p["active"] else TODAY - timedelta(days=30),
                "additional_jobs": [],
                "record_hash": "bench",
            }
        )
        if p["level"] < 6:
            organisations.append(
                {
                    "organization_id": p["org"],
                    "workday_id": f"org-{p['n']:06d}",
                    "reference_id": p["org"],
                    "name": p["org_name"] or f"Organisation {p['org']}",
                    "type": "Supervisory",
                    "superior_organization_id": p["parent_org"],
                    "manager_employee_id": employee_id,
                    "inactive": False,
                    "record_hash": "bench",
                }
            )

    # An earlier programme whose pairs are still active: those juniors mentor already.
    earlier = rng.sample(junior_ids, juniors // 50)
    mentees = rng.sample(executive_ids, min(len(earlier), len(executive_ids)))
    pairs = [
        {
            "id": k + 1,
            "key": f"rm-2025-{k + 1}",
            "programme_id": 1,
            "mentee_id": mentee,
            "mentor_id": mentor,
            "registration": str(uuid.UUID(int=k + 1)),
            "status": "active",
            "started_on": TODAY - timedelta(days=rng.randint(60, 300)),
            "cadence": "monthly",
            "themes": [],
        }
        for k, (mentee, mentor) in enumerate(zip(mentees, earlier, strict=False))
    ]

    intake = []
    names = [t[0] for t in THEMES]
    for n in executive_ids:
        if rng.random() < 0.97:
            k = rng.choices((2, 3, 4), (15, 60, 25))[0]
            intake.append(_intake(n, "mentee", _ranked(rng, names, [t[1] for t in THEMES], k)))
    for n in junior_ids:
        if rng.random() < 0.8:
            k = rng.choices((1, 2, 3), (50, 35, 15))[0]
            intake.append(_intake(n, "mentor", _ranked(rng, names, [t[2] for t in THEMES], k)))
    for row in intake:
        lang = ZONES[people[row.pop("n") - 1]["zone"]][2]
        row["languages"] = ["en"] + ([lang] if lang else [])

    with store.engine.begin() as connection:
        connection.execute(
            insert(Programme),
            [{"id": 1, "key": "rm-2025", "name": "Reverse mentoring 2025"}],
        )
        for table, rows in (
            (HrisOrganization, organisations),
            (Person, persons),
            (HrisWorker, workers),
            (Pair, pairs),
            (PairingIntake, intake),
        ):
            for start in range(0, len(rows), BATCH):
                connection.execute(insert(table), rows[start : start + BATCH])
    return {
        "workers": len(workers),
        "active_workers": sum(1 for p in people if p["active"]),
        "organisations": len(organisations),
        "executives": len(executive_ids),
        "juniors": len(junior_ids),
        "intake_mentees": sum(1 for r in intake if r["role"] == "mentee"),
        "intake_mentors": sum(1 for r in intake if r["role"] == "mentor"),
        "earlier_pairs": len(pairs),
        "time_zones": len(ZONES),
    }


def _ranked(rng: random.Random, names: list[str], weights: list[int], k: int) -> list[str]:
    """``k`` distinct themes drawn by weight, in the order drawn (most important first)."""
    names, weights, out = list(names), list(weights), []
    for _ in range(k):
        pick = rng.choices(range(len(names)), weights)[0]
        out.append(names.pop(pick))
        weights.pop(pick)
    return out


def _intake(n: int, role: str, themes: list[str]) -> dict[str, Any]:
    return {
        "n": n,
        "programme_key": PROGRAMME,
        "employee_id": f"E{n:06d}",
        "role": role,
        "themes": themes,
        "protected_consent": False,
        "source": "bench",
    }


def programme(candidates: int | None = None) -> PairingProgramme:
    """The shipped default programme (levels 2 and 3 mentored by level 6 hired in the last
    two years), with another number of candidates per executive if asked."""
    shipped = load_programmes(None)[PROGRAMME]
    return shipped if candidates is None else dataclasses.replace(shipped, candidates=candidates)


# -- the measured runs (child processes) --------------------------------------------------------


def _read_pool(store_url: str, candidates: int | None) -> Pool:
    with Store(store_url) as store, store.reading() as session:
        return load_pool(session, programme(candidates), today=TODAY)


def _capacities(pool: Pool) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.array([p.capacity for p in pool.mentees], dtype=int),
        np.array([p.capacity for p in pool.mentors], dtype=int),
    )


def child_plan(args: argparse.Namespace) -> dict[str, Any]:
    """The full path, timed; then checks and the candidates saved for the other runs."""
    started = time.perf_counter()
    pool = _read_pool(args.store_url, args.candidates)
    read = time.perf_counter()
    plan = plan_pairs(pool, objective="best")
    done = time.perf_counter()
    found = plan.candidates
    mentee_index = {p.employee_id: i for i, p in enumerate(pool.mentees)}
    mentor_index = {p.employee_id: j for j, p in enumerate(pool.mentors)}
    chosen_i = np.array([mentee_index[p.mentee] for p in plan.pairs], dtype=int)
    chosen_j = np.array([mentor_index[p.mentor] for p in plan.pairs], dtype=int)
    _check_pairs(pool, plan.pairs, chosen_i, chosen_j)
    np.savez(
        Path(args.work) / f"{args.tag}.npz",
        mentee=found.mentee,
        mentor=found.mentor,
        score=found.score,
        chosen_i=chosen_i,
        chosen_j=chosen_j,
        mentee_capacity=_capacities(pool)[0],
        mentor_capacity=_capacities(pool)[1],
    )
    # How hard executives compete: their best candidate's score against what they got.
    best = np.full(len(pool.mentees), -np.inf)
    np.maximum.at(best, found.mentee, found.score)
    got = np.full(len(pool.mentees), np.nan)
    got[chosen_i] = [p.score for p in plan.pairs]
    top_mentor = np.full(len(pool.mentees), -1)
    order = np.lexsort((found.mentor, -found.score, found.mentee))
    first = np.r_[True, found.mentee[order][1:] != found.mentee[order][:-1]]
    top_mentor[found.mentee[order][first]] = found.mentor[order][first]
    paired = ~np.isnan(got)
    return {
        "mentees": len(pool.mentees),
        "mentors": len(pool.mentors),
        "candidates_per_executive": pool.programme.candidates,
        "edges": len(found.score),
        "pairs": len(plan.pairs),
        "total": round(plan.total, 6),
        "bound": round(plan.bound, 6),
        "total_vs_bound": round(plan.total / plan.bound, 6) if plan.bound else None,
        "complete": plan.complete,
        "unmatched_mentees": sum(1 for u in plan.unmatched if u["role"] == "mentee"),
        "mentees_without_feasible_mentor": int((found.feasible == 0).sum()),
        "mean_feasible_mentors": round(float(found.feasible.mean()), 1),
        "mean_shared_hours_mentors": round(float(found.shared_hours.mean()), 1),
        "distinct_top_mentors": len(np.unique(top_mentor[top_mentor >= 0])),
        "paired_below_their_best": int((got[paired] < best[paired] - EPS).sum()),
        "seconds_read_pool": round(read - started, 3),
        "seconds_plan": round(done - read, 3),
        "seconds": round(done - started, 3),
    }


def _check_pairs(pool: Pool, pairs: list, chosen_i: np.ndarray, chosen_j: np.ndarray) -> None:
    """Independently of the plugin's scorer: capacities kept, nobody in the other's reporting
    line or sharing their manager, two working hours in common."""
    for index, people in ((chosen_i, pool.mentees), (chosen_j, pool.mentors)):
        used = np.bincount(index, minlength=len(people))
        if np.any(used > np.array([p.capacity for p in people])):
            raise SystemExit("a plan pairs someone beyond their capacity")
    day = pool.programme.working_hours
    for pair, i, j in zip(pairs, chosen_i, chosen_j, strict=True):
        a, b = pool.mentees[i], pool.mentors[j]
        if a.employee_id in b.ancestors or b.employee_id in a.ancestors or a.manager == b.manager:
            raise SystemExit(f"{pair.mentee} / {pair.mentor}: one reporting line")
        shared = _shared_minutes(a.time_zone, b.time_zone, day)
        if shared < pool.programme.min_overlap_hours * 60:
            raise SystemExit(f"{pair.mentee} / {pair.mentor}: {shared} minutes in common")
        points = sum(part["points"] for part in pair.breakdown.values())
        if abs(points - pair.score) > EPS:
            raise SystemExit(f"{pair.mentee} / {pair.mentor}: points do not add up")


def _shared_minutes(zone_a: str | None, zone_b: str | None, day: tuple[int, int]) -> int:
    from zoneinfo import ZoneInfo

    noon = datetime(TODAY.year, TODAY.month, TODAY.day, 12)
    offsets = [
        noon.replace(tzinfo=ZoneInfo(zone)).utcoffset().total_seconds() // 60
        for zone in (zone_a, zone_b)
    ]
    spans = [(day[0] - o, day[1] - o) for o in offsets]
    return int(
        max(
            min(spans[0][1], spans[1][1] + s) - max(spans[0][0], spans[1][0] + s)
            for s in (-1440, 0, 1440)
        )
    )


def greedy(
    mentee: np.ndarray,
    mentor: np.ndarray,
    score: np.ndarray,
    mentee_capacity: np.ndarray,
    mentor_capacity: np.ndarray,
) -> tuple[list[int], float]:
    """Highest score first; an edge is taken when both people still have capacity."""
    order = np.lexsort((mentor, mentee, -score))  # ties: lower executive, then mentor index
    left_i, left_j = mentee_capacity.tolist(), mentor_capacity.tolist()
    taken, total = [], 0.0
    for e, i, j, s in zip(
        order.tolist(),
        mentee[order].tolist(),
        mentor[order].tolist(),
        score[order].tolist(),
        strict=True,
    ):
        if left_i[i] > 0 and left_j[j] > 0:
            left_i[i] -= 1
            left_j[j] -= 1
            taken.append(e)
            total += s
    return taken, total


def child_greedy(args: argparse.Namespace) -> dict[str, Any]:
    data = np.load(Path(args.work) / f"{args.tag}.npz")
    arrays = [data[k] for k in ("mentee", "mentor", "score", "mentee_capacity", "mentor_capacity")]
    started = time.perf_counter()
    taken, total = greedy(*arrays)
    return {
        "edges": len(arrays[2]),
        "pairs": len(taken),
        "total": round(total, 6),
        "seconds": round(time.perf_counter() - started, 3),
    }


def child_greedy_all(args: argparse.Namespace) -> dict[str, Any]:
    """Greedy over every feasible edge, in the order of :func:`greedy` (score, then executive,
    then mentor): each executive offers their best mentor still free and the best offer is
    taken. Each executive's list starts as their candidates (cut to ``--candidates`` if given)
    and is refilled from their full row of scores once every mentor on it is taken."""
    started = time.perf_counter()
    pool = _read_pool(args.store_url, None)
    scorer = Scorer(pool)
    data = np.load(Path(args.work) / f"{args.tag}.npz")
    mentee, mentor, score = data["mentee"], data["mentor"], data["score"]
    left_i, left_j = (c.tolist() for c in _capacities(pool))
    free = np.array([c > 0 for c in left_j])
    keep = args.candidates or pool.programme.candidates
    order = np.lexsort((mentor, -score, mentee))  # by executive, best first, ties by mentor
    bounds = np.searchsorted(mentee[order], np.arange(len(pool.mentees) + 1))
    lists: list[tuple[list[float], list[int]]] = []
    truncated: list[bool] = []
    for i in range(len(pool.mentees)):
        edges = order[bounds[i] : bounds[i + 1]]
        cut = len(edges) >= pool.programme.candidates or len(edges) > keep
        edges = edges[:keep]
        if cut:  # mentors tied with the last one may be missing: leave those to the refill
            edges = edges[score[edges] > score[edges[-1]]]
        lists.append((score[edges].tolist(), mentor[edges].tolist()))
        truncated.append(cut)
    position = [0] * len(lists)
    refills = 0

    def offer(i: int) -> float | None:
        """Executive i's best mentor still free (their score), refilling their list."""
        nonlocal refills
        scores, mentors = lists[i]
        k = position[i]
        while True:
            while k < len(mentors) and left_j[mentors[k]] == 0:
                k += 1
            if k < len(mentors) or not truncated[i]:
                break
            # Every listed mentor is taken: the best free ones next, all those tied with the
            # last one included (mentors only ever fill up, so none is better than before).
            refills += 1
            full = scorer.block(i, i + 1).scores[0]
            js = np.flatnonzero(np.isfinite(full) & free)
            truncated[i] = len(js) > keep
            if truncated[i]:
                js = js[full[js] >= np.partition(full[js], len(js) - keep)[len(js) - keep]]
            js = js[np.lexsort((js, -full[js]))]
            lists[i] = scores, mentors = full[js].tolist(), js.tolist()
            k = 0
        position[i] = k
        return scores[k] if k < len(mentors) else None

    heap = []
    for i in range(len(lists)):
        s = offer(i)
        if s is not None and left_i[i] > 0:
            heap.append((-s, i))
    heapq.heapify(heap)
    total, pairs = 0.0, 0
    while heap:
        key, i = heapq.heappop(heap)
        s = offer(i)
        if s is None:
            continue
        if s < -key - EPS:  # their offer got worse since it was queued: queue it again
            heapq.heappush(heap, (-s, i))
            continue
        j = lists[i][1][position[i]]
        left_i[i] -= 1
        left_j[j] -= 1
        free[j] = left_j[j] > 0
        total += s
        pairs += 1
        position[i] += 1
        if left_i[i] > 0:
            s = offer(i)
            if s is not None:
                heapq.heappush(heap, (-s, i))
    return {
        "initial_list": keep,
        "pairs": pairs,
        "total": round(total, 6),
        "refills": refills,
        "seconds": round(time.perf_counter() - started, 3),
    }


def _solve_lp(
    mentee: np.ndarray,
    mentor: np.ndarray,
    score: np.ndarray,
    mentee_capacity: np.ndarray,
    mentor_capacity: np.ndarray,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """The b-matching LP over these edges: its optimum, solution and duals (u, v)."""
    n, m, edges = len(mentee_capacity), len(mentor_capacity), len(score)
    columns = np.arange(edges)
    incidence = sp.vstack(
        [
            sp.csr_matrix((np.ones(edges), (mentee, columns)), shape=(n, edges)),
            sp.csr_matrix((np.ones(edges), (mentor, columns)), shape=(m, edges)),
        ]
    ).tocsr()
    limits = np.concatenate([mentee_capacity, mentor_capacity]).astype(float)
    result = linprog(-score, A_ub=incidence, b_ub=limits, bounds=(0, 1), method="highs-ds")
    if result.status != 0:
        raise SystemExit(f"LP: {result.message}")
    duals = -result.ineqlin.marginals
    return -result.fun, result.x, duals[:n], duals[n:]


def _price(
    scorer: Scorer,
    u: np.ndarray,
    v: np.ndarray,
    mentee: np.ndarray,
    mentor: np.ndarray,
    per_executive: int,
) -> tuple[float, list[tuple[int, int, float]], int]:
    """Every cell against the duals: the Lagrangian bound (mentor constraints relaxed with
    prices v: the sum of v plus each executive's best positive s - v; valid for any v >= 0,
    mentor and executive capacities 1) and the columns with a positive reduced cost s - u - v
    that are not yet among the edges (the ``per_executive`` best of each executive)."""
    n, m = len(scorer.pool.mentees), len(scorer.pool.mentors)
    rows = max(1, 4_000_000 // max(m, 1))
    order = np.argsort(mentee, kind="stable")
    starts = np.searchsorted(mentee[order], np.arange(0, n + rows, rows))
    bound = float(v.sum())
    new: list[tuple[int, int, float]] = []
    violating = 0
    for b, start in enumerate(range(0, n, rows)):
        block = scorer.block(start, min(start + rows, n))
        reduced = block.scores - v[None, :]
        bound += float(np.where(np.isfinite(reduced), reduced, 0.0).clip(min=0).max(axis=1).sum())
        over = reduced - u[start : start + len(reduced), None]
        known = order[starts[b] : starts[b + 1]]
        over[mentee[known] - start, mentor[known]] = -np.inf
        hits = over > EPS
        violating += int(hits.sum())
        for offset in np.flatnonzero(hits.any(axis=1)).tolist():
            js = np.flatnonzero(hits[offset])
            js = js[np.argsort(-over[offset, js], kind="stable")[:per_executive]]
            new.extend((start + offset, int(j), float(block.scores[offset, j])) for j in js)
    return bound, new, violating


def child_optimum(args: argparse.Namespace) -> dict[str, Any]:
    """The exact optimum over every feasible edge, by column generation from the candidates."""
    started = time.perf_counter()
    pool = _read_pool(args.store_url, None)
    scorer = Scorer(pool)
    if any(p.capacity != 1 for p in pool.mentees + pool.mentors):
        raise SystemExit("the bound here assumes capacity 1 on both sides (the shipped default)")
    data = np.load(Path(args.work) / f"{args.tag}.npz")
    mentee, mentor, score = data["mentee"], data["mentor"], data["score"]
    caps = _capacities(pool)
    rounds: list[dict[str, Any]] = []
    first_bound = None
    while True:
        t = time.perf_counter()
        value, x, u, v = _solve_lp(mentee, mentor, score, *caps)
        if np.any((x > EPS) & (x < 1 - EPS)):
            raise SystemExit("the LP solution is fractional")
        solved = time.perf_counter()
        bound, new, violating = _price(scorer, u, v, mentee, mentor, per_executive=50)
        first_bound = bound if first_bound is None else first_bound
        rounds.append(
            {
                "edges": len(score),
                "lp_optimum": round(value, 6),
                "lagrangian_bound": round(bound, 6),
                "columns_with_positive_reduced_cost": violating,
                "seconds_lp": round(solved - t, 3),
                "seconds_pricing": round(time.perf_counter() - solved, 3),
            }
        )
        print(json.dumps(rounds[-1]), file=sys.stderr, flush=True)
        if not new or len(rounds) >= args.max_rounds:
            break
        mentee = np.concatenate([mentee, [i for i, _, _ in new]])
        mentor = np.concatenate([mentor, [j for _, j, _ in new]])
        score = np.concatenate([score, [s for _, _, s in new]])
    exact = not new
    return {
        "optimum": round(value, 6) if exact else None,
        "best_bound": round(min(r["lagrangian_bound"] for r in rounds), 6),
        "first_bound": round(first_bound, 6),
        "exact": exact,
        "rounds": rounds,
        "seconds": round(time.perf_counter() - started, 3),
    }


def child_lapjv(args: argparse.Namespace) -> dict[str, Any]:
    """Not the plugin's solver: the same pool, scores and candidates (the plugin's own
    ``candidates``), assigned by SciPy's sparse Jonker-Volgenant matching instead of HiGHS's
    simplex, to show what another exact solver of the same problem costs. Capacity 1 only: a
    dummy mentor per executive (score 0) lets executives stay unpaired."""
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    from mentorbridge.plugin.pairing.solve import candidates

    started = time.perf_counter()
    pool = _read_pool(args.store_url, None)
    if any(p.capacity != 1 for p in pool.mentees + pool.mentors):
        raise SystemExit("this comparison assumes capacity 1 on both sides")
    read = time.perf_counter()
    found = candidates(Scorer(pool), per_person=args.candidates or pool.programme.candidates)
    scored = time.perf_counter()
    n, m = len(pool.mentees), len(pool.mentors)
    graph = sp.csr_matrix(
        (
            np.concatenate([found.score + 1.0, np.ones(n)]),  # + 1: no weight may be 0
            (
                np.concatenate([found.mentee, np.arange(n)]),
                np.concatenate([found.mentor, m + np.arange(n)]),
            ),
        ),
        shape=(n, m + n),
    )
    rows, columns = min_weight_full_bipartite_matching(graph, maximize=True)
    real = columns < m
    total = float(np.asarray(graph[rows[real], columns[real]]).sum()) - int(real.sum())
    done = time.perf_counter()
    return {
        "candidates_per_executive": args.candidates or pool.programme.candidates,
        "edges": len(found.score),
        "complete": found.complete,
        "pairs": int(real.sum()),
        "total": round(total, 6),
        "seconds_read_pool": round(read - started, 3),
        "seconds_candidates": round(scored - read, 3),
        "seconds_matching": round(done - scored, 3),
        "seconds": round(done - started, 3),
    }


def child_profile(args: argparse.Namespace) -> dict[str, Any]:
    """Where the full path's time goes (cProfile inflates absolute times: read the shares)."""
    profiler = cProfile.Profile()
    profiler.enable()
    pool = _read_pool(args.store_url, args.candidates)
    plan_pairs(pool, objective="best")
    profiler.disable()
    out = {}
    for key in ("cumulative", "tottime"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(key).print_stats(25)
        lines = [line.rstrip() for line in text.getvalue().splitlines()]
        start = next(k for k, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
        out[key] = [line for line in lines[start:] if line.strip()]
    return {"top_functions": out}


CHILDREN = {
    "plan": child_plan,
    "greedy": child_greedy,
    "greedy-all": child_greedy_all,
    "optimum": child_optimum,
    "profile": child_profile,
    "lapjv": child_lapjv,
}


def measure(kind: str, store_url: str, work: Path, tag: str, **options: Any) -> dict:
    command = [sys.executable, "-m", "bench.pairing_bench", "--child", kind]
    command += ["--store-url", store_url, "--work", str(work), "--tag", tag]
    for name, value in options.items():
        if value is not None:
            command += [f"--{name.replace('_', '-')}", str(value)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} ({tag}) failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the driver -----------------------------------------------------------------------------------


def run_size(name: str, executives: int, juniors: int, tmp: Path, args: argparse.Namespace) -> dict:
    url = f"sqlite:///{tmp / f'{name}.sqlite3'}"
    with Store(url) as store:
        upgrade(store)
        started = time.perf_counter()
        tenant = write_tenant(store, executives=executives, juniors=juniors, seed=args.seed)
        tenant["seconds_to_write"] = round(time.perf_counter() - started, 1)
        with store.reading() as session:
            tenant["intake_rows"] = session.scalar(select(func.count()).select_from(PairingIntake))
    print(f"{name}: tenant {tenant}", flush=True)
    result: dict[str, Any] = {"size": name, "tenant": tenant}
    result["plan"] = measure("plan", url, tmp, name)
    print(f"  plan: {result['plan']}", flush=True)
    plan = result["plan"]
    if plan["mentees"] != executives or plan["mentors"] != juniors:
        raise SystemExit(f"the pool is {plan['mentees']} x {plan['mentors']}, not as generated")
    more = args.more_candidates
    if more and more < juniors and executives * juniors > args.complete_up_to:
        # The plugin's own way to a better plan: more candidates in the pairing file.
        result["plan_more"] = measure("plan", url, tmp, f"{name}-more", candidates=more)
        print(f"  plan with {more} candidates: {result['plan_more']}", flush=True)
    result["greedy"] = measure("greedy", url, tmp, name)
    print(f"  greedy: {result['greedy']}", flush=True)
    if not args.no_greedy_all:
        result["greedy_all"] = measure("greedy-all", url, tmp, name)
        print(f"  greedy over all edges: {result['greedy_all']}", flush=True)
    if executives * juniors <= args.complete_up_to:
        result["complete"] = measure("plan", url, tmp, f"{name}-complete", candidates=juniors)
        print(f"  complete plan: {result['complete']}", flush=True)
        if not result["complete"]["complete"]:
            raise SystemExit("the plan with every mentor as candidate is not complete")
        result["greedy_complete"] = measure("greedy", url, tmp, f"{name}-complete")
        print(f"  greedy over every edge: {result['greedy_complete']}", flush=True)
        # The refilling greedy must give what the greedy over every edge gives, even when
        # it starts from short lists (many refills).
        result["greedy_all_check"] = measure("greedy-all", url, tmp, name, candidates=5)
        print(f"  greedy from lists of 5, refilled: {result['greedy_all_check']}", flush=True)
        expected = result["greedy_complete"]["total"]
        for run in ("greedy_all", "greedy_all_check"):
            if run in result and abs(result[run]["total"] - expected) > EPS:
                raise SystemExit(f"{run} and the greedy over every edge disagree")
    if not args.no_optimum:
        result["optimum"] = measure("optimum", url, tmp, name, max_rounds=args.max_rounds)
        print(f"  optimum: {result['optimum']}", flush=True)
    if not args.no_lapjv:
        for k in sorted({programme().candidates, *args.lapjv_candidates}):
            if k <= juniors:
                run = measure("lapjv", url, tmp, name, candidates=k)
                result.setdefault("lapjv", []).append(run)
                print(f"  sparse Jonker-Volgenant, {k} candidates: {run}", flush=True)
    result["verdict"] = verdict(result)
    missed_resources = any(
        not t["met"] for t in result["verdict"]["targets"] if t["name"] in ("time", "memory")
    )
    if args.profile or missed_resources:
        result["profile"] = measure("profile", url, tmp, name)
    return result


def verdict(result: dict) -> dict:
    plan = result["plan"]
    optimum = None
    source = "plan bound (each executive with their best mentor)"
    if "complete" in result:
        optimum, source = result["complete"]["total"], "exact (plan with complete candidates)"
    elif result.get("optimum", {}).get("exact"):
        optimum, source = result["optimum"]["optimum"], "exact (column generation over all edges)"
    reference = optimum
    if reference is None and "optimum" in result:
        reference, source = result["optimum"]["best_bound"], "Lagrangian LP bound"
    if reference is None:
        reference = plan["bound"]
    share = plan["total"] / reference if reference else 1.0
    greedy_total = result["greedy"]["total"]
    targets = [
        {
            "name": "time",
            "target": f"< {TARGET_SECONDS:g} s",
            "value": plan["seconds"],
            "met": plan["seconds"] < TARGET_SECONDS,
        },
        {
            "name": "memory",
            "target": f"< {TARGET_RSS_MB / 1024:g} GB peak RSS",
            "value": plan["peak_rss_mb"],
            "met": plan["peak_rss_mb"] < TARGET_RSS_MB,
        },
        {
            "name": "quality",
            "target": f">= {TARGET_SHARE:.0%} of the optimum ({source})",
            "value": round(share, 6),
            "met": share >= TARGET_SHARE - 1e-12,
        },
        {
            "name": "greedy",
            "target": "strictly better than greedy over the same candidates",
            "value": round(plan["total"] - greedy_total, 6),
            "met": plan["total"] > greedy_total + EPS,
        },
    ]
    if "greedy_all" in result:
        difference = plan["total"] - result["greedy_all"]["total"]
        targets.append(
            {
                "name": "greedy over all edges",
                "target": "strictly better than greedy over every feasible edge",
                "value": round(difference, 6),
                "met": difference > EPS,
            }
        )
    return {"reference": reference, "reference_is": source, "optimum": optimum, "targets": targets}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def print_table(runs: list[dict]) -> None:
    print()
    header = (
        f"{'size':<14}{'run':<34}{'seconds':>9}{'peak RSS':>10}{'pairs':>7}"
        f"{'total':>13}{'x optimum':>11}"
    )
    print(header)
    for run in runs:
        reference = run["verdict"]["reference"]
        size = f"{run['plan']['mentees']:,}x{run['plan']['mentors']:,}"
        rows = [
            ("plan (default candidates)", run["plan"]),
            (
                f"plan, {run.get('plan_more', {}).get('candidates_per_executive')} candidates",
                run.get("plan_more"),
            ),
            ("greedy, same candidates", run["greedy"]),
            ("greedy, every feasible edge", run.get("greedy_all")),
            ("plan, complete candidates", run.get("complete")),
            ("greedy, every edge (complete)", run.get("greedy_complete")),
        ]
        rows += [
            (f"other solver (JV), {r['candidates_per_executive']} cand.", r)
            for r in run.get("lapjv", [])
        ]
        for label, row in rows:
            if row is None:
                continue
            rss = f"{row['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in row else ""
            print(
                f"{size:<14}{label:<34}{row['seconds']:>9.2f}{rss:>10}{row['pairs']:>7}"
                f"{row['total']:>13.2f}{row['total'] / reference:>11.4%}"
            )
        if "optimum" in run:
            o = run["optimum"]
            value = o["optimum"] if o["exact"] else o["best_bound"]
            label = "optimum (all edges)" if o["exact"] else "LP bound (all edges)"
            print(
                f"{size:<14}{label:<34}{o['seconds']:>9.2f}{o['peak_rss_mb']:>7.0f} MB"
                f"{'':>7}{value:>13.2f}{value / reference:>11.4%}"
            )
            first = o["rounds"][0]
            print(
                f"{size:<14}{'LP bound, candidates duals':<34}"
                f"{first['seconds_lp'] + first['seconds_pricing']:>9.2f}{'':>10}{'':>7}"
                f"{first['lagrangian_bound']:>13.2f}{first['lagrangian_bound'] / reference:>11.4%}"
            )
        plan = run["plan"]
        print(
            f"{'':<14}plan bound (best mentor each) {plan['bound']:.2f}; "
            f"edges {plan['edges']:,}; read pool {plan['seconds_read_pool']:.1f} s, "
            f"plan {plan['seconds_plan']:.1f} s; executives paired below their best candidate: "
            f"{plan['paired_below_their_best']:,}"
        )
        for target in run["verdict"]["targets"]:
            mark = "met" if target["met"] else "MISSED"
            print(
                f"{'':<14}{target['name']:<22} {target['target']:<62} "
                f"{target['value']!s:>12}  {mark}"
            )
        if "profile" in run:
            print(f"{'':<14}where the time went (cProfile, cumulative):")
            for line in run["profile"]["top_functions"]["cumulative"][:20]:
                print(f"{'':<16}{line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--executives", type=int, default=5_000)
    parser.add_argument("--juniors", type=int, default=50_000)
    parser.add_argument("--small", type=int, default=10, help="the small tenant is 1/N the size")
    parser.add_argument("--no-small", action="store_true")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-greedy-all", action="store_true")
    parser.add_argument("--no-optimum", action="store_true")
    parser.add_argument("--max-rounds", type=int, default=8)
    parser.add_argument("--profile", action="store_true", help="profile the full path always")
    parser.add_argument(
        "--more-candidates",
        type=int,
        default=1000,
        help="also run the plan with this many candidates where no complete plan runs (0: no)",
    )
    parser.add_argument("--no-lapjv", action="store_true", help="skip the other-solver runs")
    parser.add_argument(
        "--lapjv-candidates",
        type=lambda text: [int(k) for k in text.split(",")],
        default=[1000],
        help="candidates per executive for the other-solver runs, besides the programme's",
    )
    parser.add_argument(
        "--complete-up-to",
        type=int,
        default=5_000_000,
        help="run a plan with complete candidates when executives x mentors is at most this",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "pairing.json"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--store-url", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--tag", help=argparse.SUPPRESS)
    parser.add_argument("--candidates", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = CHILDREN[args.child](args)
        result["peak_rss_mb"] = round(peak_rss_mb(), 1)
        # For comparison only: Linux may carry the parent's peak over into ru_maxrss.
        rusage = resource.getrusage(resource.RUSAGE_SELF)
        result["ru_maxrss_mb"] = round(rusage.ru_maxrss / 1024, 1)
        print(json.dumps(result))
        return
    sizes = [("full", args.executives, args.juniors)]
    if not args.no_small:
        sizes.append(("small", args.executives // args.small, args.juniors // args.small))
    runs = []
    with tempfile.TemporaryDirectory(prefix="mentorbridge-pairing-bench-") as tmp:
        for name, executives, juniors in sizes:
            runs.append(run_size(name, executives, juniors, Path(tmp), args) | {"when": _now()})
    summary = {
        "when": _now(),
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        "store": "SQLite",
        "programme": f"{PROGRAMME} (shipped default), today {TODAY.isoformat()}",
        "targets": {
            "seconds": TARGET_SECONDS,
            "peak_rss_mb": TARGET_RSS_MB,
            "share_of_optimum": TARGET_SHARE,
            "better_than_greedy": True,
        },
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print_table(runs)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
