"""The fixed reference data the sample tenant is generated from.

Locations, name pools, business functions, the competency library, the proficiency scales and
the readiness values. Everything here is tenant configuration in a real Workday: the values are
deliberately *not* generic (a four-level ``PRACTISING``/``SKILLED`` scale, ``R12`` readiness) so
that code reading them cannot get away with hard-coding Workday-looking defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ADDITIONAL_JOBS",
    "COMPETENCIES",
    "COUNTRY_NAMES",
    "ETHNICITIES",
    "EXECUTIVE_OFFICE",
    "FUNCTIONS",
    "GENDERS",
    "LOCATIONS",
    "MANAGEMENT_LEVELS",
    "NAMES",
    "NEW_COMPETENCIES",
    "PREFERRED_FIRST_NAMES",
    "READINESS",
    "SPECIAL_PEOPLE",
    "Function",
    "Location",
    "SpecialPerson",
    "scales",
]

#: Management levels by depth in the hierarchy (1 is the CEO).
MANAGEMENT_LEVELS = {
    1: "1 Chief Executive",
    2: "2 Senior Executive",
    3: "3 Vice President",
    4: "4 Director",
    5: "5 Manager",
    6: "6 Individual Contributor",
}


@dataclass(frozen=True, slots=True)
class Location:
    """A business site: where a worker sits, with the cultures its names are drawn from."""

    location_id: str
    name: str
    country: str
    time_zone: str
    cultures: str  # space-separated; a culture named twice is drawn twice as often
    weight: int

    @property
    def country_name(self) -> str:
        """The country's English short name."""
        return COUNTRY_NAMES[self.country]


COUNTRY_NAMES = {
    "AE": "United Arab Emirates",
    "BR": "Brazil",
    "DE": "Germany",
    "GB": "United Kingdom",
    "IE": "Ireland",
    "IN": "India",
    "SE": "Sweden",
    "SG": "Singapore",
    "US": "United States of America",
}

LOCATIONS = (
    Location("LON", "London HQ", "GB", "Europe/London", "en en en en en en ga hi", 22),
    Location("NYC", "New York Office", "US", "America/New_York", "en en en en en pt sg hi", 17),
    Location("SFO", "San Francisco Office", "US", "America/Los_Angeles", "en en en en zh hi", 7),
    Location("BER", "Berlin Office", "DE", "Europe/Berlin", "de de de de de en", 12),
    Location("BLR", "Bengaluru Technology Centre", "IN", "Asia/Kolkata", "hi", 15),
    Location("SIN", "Singapore Hub", "SG", "Asia/Singapore", "sg sg zh", 8),
    Location("SAO", "São Paulo Office", "BR", "America/Sao_Paulo", "pt", 8),
    Location("DUB", "Dublin Office", "IE", "Europe/Dublin", "ga ga en", 5),
    Location("DXB", "Dubai Office", "AE", "Asia/Dubai", "ar ar hi en", 3),
    Location("STO", "Stockholm Office", "SE", "Europe/Stockholm", "sv", 3),
)

#: First and last names per culture. ``zh`` names are written family name first, unspaced.
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        ("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Noah", "Emily",
         "Liam", "Olivia", "Ethan", "Sophia", "James", "Grace", "William", "Charlotte",
         "Alexander", "Katherine", "Elizabeth", "Robert", "Daniel", "Hannah", "Samuel", "Chloe",
         "Benjamin", "Lucy", "Matthew", "Zoe"),
        ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
         "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
         "Wood", "Jackson", "Clarke", "Miller", "Davis", "Garcia", "Martinez", "Anderson", "Chen",
         "Nguyen", "Okafor", "Kowalski", "Adeyemi"),
    ),
    "de": (
        ("Lukas", "Leon", "Felix", "Jonas", "Paul", "Hannah", "Emma", "Lena", "Leonie", "Marie",
         "Jürgen", "Jörg", "Sören", "Björn", "Käthe", "Anja", "Franziska", "Maximilian",
         "Tobias", "Katrin"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder",
         "Neumann", "Schwarz", "Groß"),
    ),
    "hi": (
        ("Aarav", "Vivaan", "Aditya", "Arjun", "Sai", "Ananya", "Diya", "Priya", "Saanvi",
         "Ishaan", "Kavya", "Rohan", "Meera", "Vikram", "Lakshmi", "Rahul", "Neha", "Sanjay",
         "Pooja", "Deepak"),
        ("Sharma", "Verma", "Iyer", "Reddy", "Nair", "Gupta", "Patel", "Singh", "Kumar", "Rao",
         "Menon", "Chatterjee", "Banerjee", "Joshi", "Mehta", "Pillai", "Das", "Kapoor",
         "Agarwal", "Krishnan"),
    ),
    "sg": (
        ("Wei Ming", "Mei Ling", "Jun Jie", "Hui Min", "Kai Xiang", "Siti", "Nurul",
         "Muhammad Faiz", "Rajesh", "Xin Yi"),
        ("Tan", "Lim", "Lee", "Ng", "Ong", "Wong", "Goh", "Chua", "Koh", "Teo"),
    ),
    "zh": (
        ("伟", "静", "娜", "敏", "洋", "磊", "婷", "杰", "芳", "军"),
        ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"),
    ),
    "pt": (
        ("João", "José", "Maria", "Ana", "Lucas", "Gabriel", "Júlia", "Beatriz", "Mateus",
         "Luíza", "Thiago", "Camila", "Rafael", "Letícia", "Felipe", "Fernanda", "Gonçalo",
         "Inês", "Caio", "Larissa"),
        ("Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
         "Lima", "Gomes", "Nuñez", "Araújo", "Conceição", "Ribeiro", "Carvalho", "Gonçalves",
         "Barbosa", "Rocha", "Dias", "Monteiro"),
    ),
    "ar": (
        ("عائشة", "محمد", "فاطمة", "أحمد", "مريم", "خالد", "نورة", "عمر", "ليلى", "يوسف"),
        ("الحربي", "المنصوري", "الهاشمي", "القاسمي", "الشامسي", "النعيمي", "الكعبي", "الظاهري"),
    ),
    "ga": (
        ("Siobhán", "Aoife", "Niamh", "Saoirse", "Caoimhe", "Seán", "Oisín", "Cian", "Tadhg",
         "Pádraig"),
        ("O'Brien", "Murphy", "Kelly", "O'Sullivan", "Walsh", "O'Connor", "McCarthy", "Byrne",
         "Ryan", "Ó Súilleabháin"),
    ),
    "sv": (
        ("Astrid", "Elsa", "Maja", "Linnéa", "Björn", "Erik", "Lars", "Sven", "Åsa", "Oskar"),
        ("Ångström", "Johansson", "Andersson", "Karlsson", "Nilsson", "Eriksson", "Larsson",
         "Öberg", "Lindqvist", "Bergström"),
    ),
}  # fmt: skip

#: First names people go by when their preferred name differs from the legal one.
PREFERRED_FIRST_NAMES = (
    "Alex", "Sam", "Kate", "Bill", "Liz", "Max", "Jo", "Bea", "Nico", "Kai", "Mo", "Ronnie",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SpecialPerson:
    """A worker with a name that tends to break things, pinned into every tenant."""

    legal_name: str
    preferred_name: str
    location_id: str
    senior: bool = False  # placed among the senior executives rather than the contributors


SPECIAL_PEOPLE = (
    SpecialPerson("José Nuñez", "José Nuñez", "SAO", senior=True),
    SpecialPerson("Zoë Ångström", "Zoë Ångström", "STO"),
    SpecialPerson("李小龙", "Bruce Lee", "SIN"),
    SpecialPerson("عائشة الحربي", "عائشة الحربي", "DXB"),
    SpecialPerson("Siobhán O'Brien", "Siobhán O'Brien", "DUB"),
    SpecialPerson("Alexandra Petrova", "Alex 🚀", "LON"),
)


@dataclass(frozen=True, slots=True)
class Function:
    """A business function: one senior executive heads it, its teams inherit it."""

    code: str
    name: str
    executive_title: str
    manager_title: str
    contributor_titles: tuple[str, ...]
    teams: tuple[str, ...]


FUNCTIONS = (
    Function(
        "ENG",
        "Engineering",
        "Chief Technology Officer",
        "Engineering Manager",
        ("Software Engineer", "Site Reliability Engineer", "QA Engineer"),
        (
            "Platform",
            "Payments",
            "Mobile",
            "Security",
            "Cloud Infrastructure",
            "Developer Experience",
        ),
    ),
    Function(
        "DAT",
        "Data & Analytics",
        "Chief Data Officer",
        "Analytics Manager",
        ("Data Analyst", "Data Engineer"),
        ("Data Platform", "Insights", "Machine Learning", "Data Governance"),
    ),
    Function(
        "FIN",
        "Finance",
        "Chief Financial Officer",
        "Finance Manager",
        ("Financial Analyst", "Accountant"),
        ("FP&A", "Treasury", "Tax", "Procurement"),
    ),
    Function(
        "PPL",
        "People",
        "Chief People Officer",
        "People Partner Manager",
        ("HR Business Partner", "Talent Acquisition Partner", "Learning Specialist"),
        ("Talent", "Learning & Development", "Reward", "People Operations"),
    ),
    Function(
        "MKT",
        "Marketing",
        "Chief Marketing Officer",
        "Marketing Manager",
        ("Marketing Specialist", "Content Designer"),
        ("Brand", "Growth", "Product Marketing", "Events"),
    ),
    Function(
        "SAL",
        "Sales",
        "Chief Revenue Officer",
        "Sales Manager",
        ("Account Executive", "Sales Development Representative"),
        ("Enterprise Sales", "Mid-Market", "Partnerships", "Sales Operations"),
    ),
    Function(
        "OPS",
        "Operations",
        "Chief Operating Officer",
        "Operations Manager",
        ("Operations Analyst", "Customer Support Specialist"),
        ("Customer Support", "Supply Chain", "Facilities", "Service Delivery"),
    ),
    Function(
        "LEG",
        "Legal",
        "General Counsel",
        "Legal Manager",
        ("Legal Counsel", "Compliance Analyst"),
        ("Commercial Legal", "Compliance", "Privacy"),
    ),
)

#: The CEO's own "function".
EXECUTIVE_OFFICE = Function("EXO", "Executive Office", "Chief Executive Officer", "", (), ())

#: Secondary jobs some workers hold besides their primary one: (job profile id, title).
ADDITIONAL_JOBS = (
    ("JP-XTRA-ERG", "Employee Resource Group Lead"),
    ("JP-XTRA-MENTOR", "Reverse Mentoring Champion"),
    ("JP-XTRA-WARDEN", "Fire Warden"),
    ("JP-XTRA-COUNCIL", "Works Council Member"),
)

GENDERS = ("Female", "Male", "Female", "Male", "Non-binary", "Not Declared")
ETHNICITIES = (
    "White", "Asian", "Black", "Hispanic or Latino", "Middle Eastern or North African",
    "Mixed or Multiple", "Not Declared",
)  # fmt: skip


def scales(tenant: str) -> dict[str, list[dict[str, object]]]:
    """The tenant's proficiency scales: scale id -> levels (rank 1 is the lowest)."""
    prefix = tenant.upper()
    return {
        f"{prefix}_PROF_4": [
            {"level_id": "AWARE", "name": "Aware", "rank": 1},
            {"level_id": "PRACTISING", "name": "Practising", "rank": 2},
            {"level_id": "SKILLED", "name": "Skilled", "rank": 3},
            {"level_id": "EXPERT", "name": "Expert", "rank": 4},
        ],
        f"{prefix}_TECH_3": [
            {"level_id": "FOUNDATION", "name": "Foundation", "rank": 1},
            {"level_id": "PROFICIENT", "name": "Proficient", "rank": 2},
            {"level_id": "MASTERY", "name": "Mastery", "rank": 3},
        ],
    }


#: The competency library: (id, name, category, scale suffix, inactive).
COMPETENCIES = (
    ("SUCC-DIGI", "Digital Fluency", "Technical", "PROF_4", False),
    ("SUCC-INCL", "Inclusive Leadership", "Leadership", "PROF_4", False),
    ("SUCC-FORE", "Strategic Foresight", "Leadership", "PROF_4", False),
    ("SUCC-CUST", "Customer Insight", "Business", "PROF_4", False),
    ("COMP-COACH", "Coaching Others", "Leadership", "PROF_4", False),
    ("COMP-CHANGE", "Leading Change", "Leadership", "PROF_4", False),
    ("COMP-FIN", "Financial Acumen", "Business", "PROF_4", False),
    ("COMP-COMM", "Communicating with Impact", "Interpersonal", "PROF_4", False),
    ("COMP-COLLAB", "Cross-Team Collaboration", "Interpersonal", "PROF_4", False),
    ("TECH-DATA", "Data Literacy", "Technical", "TECH_3", False),
    ("TECH-GENAI", "Generative AI Tooling", "Technical", "TECH_3", False),
    ("COMP-SIXSIGMA", "Six Sigma Basics", "Operational Excellence", "PROF_4", True),
    ("SUCC-SUST", "Sustainability Mindset", "Business", "PROF_4", False),
    ("COMP-INFL", "Influencing Without Authority", "Interpersonal", "PROF_4", False),
)
#: Competencies the library gained recently: nobody is assessed on them and no job profile
#: requires them yet (so the assessments, requirements and plans drawn for the rest stay as
#: they were before these were added).
NEW_COMPETENCIES = frozenset({"SUCC-SUST", "COMP-INFL"})

#: The tenant's succession readiness values: (id, descriptor).
READINESS = (
    ("RN", "Ready Now"),
    ("R12", "Ready in 1-2 Years"),
    ("R35", "Ready in 3-5 Years"),
    ("EMER", "Emergency Cover"),
)
