"""Site info and users: ``core_webservice_get_site_info`` and ``core_user_*``."""

from __future__ import annotations

import re
from typing import Any

from . import exporters
from .call import Call, Function
from .errors import WSError, coding_error, invalid_parameter, moodle_exception
from .params import INSTALLED_LANGS, Multiple, Single, default, optional, required
from .state import ADMIN_ID, GUEST_ID, User

__all__ = ["FUNCTIONS", "SITE_INFO"]

#: Fixed parts of ``core_webservice_get_site_info`` on the recorded site.
SITE_INFO: dict[str, Any] = {
    "sitename": "Reverse Mentoring Lab",
    "release": "4.3 (Build: 20231009)",
    "version": "2023100900",
    "userprivateaccesskey": "1e101b4eeacbfbd6e5b30ed10db071e3",
}
#: Auth plugins ``create_users`` accepts (core's, less mnet and webservice).
AUTH_PLUGINS = frozenset(
    {"cas", "db", "email", "ldap", "lti", "manual", "nologin", "none", "oauth2", "shibboleth"}
)
#: Auth plugins that keep the password in Moodle (so the password policy applies).
INTERNAL_AUTHS = frozenset({"manual", "email"})
THEMES = frozenset({"boost", "classic"})
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
#: User attributes the create/update functions set directly (the rest go to ``User.extra``).
_PROFILE = [
    "username",
    "firstname",
    "lastname",
    "email",
    "auth",
    "idnumber",
    "department",
    "institution",
    "city",
    "country",
    "lang",
    "theme",
    "timezone",
    "mailformat",
    "description",
    "descriptionformat",
    "phone1",
    "phone2",
    "address",
    "suspended",
]

_PROFILE_FIELDS: dict[str, Any] = {
    "maildisplay": optional("int"),
    "city": optional("notags"),
    "country": optional("alpha"),
    "timezone": optional("timezone"),
    "description": optional("raw"),
    "firstnamephonetic": optional("notags"),
    "lastnamephonetic": optional("notags"),
    "middlename": optional("notags"),
    "alternatename": optional("notags"),
    "interests": optional("text"),
}
_CONTACT_FIELDS: dict[str, Any] = {
    "institution": optional("text"),
    "department": optional("text"),
    "phone1": optional("notags"),
    "phone2": optional("notags"),
    "address": optional("text"),
}
_CUSTOM = Multiple(Single({"type": required("alphanumext"), "value": required("raw")}), presence=0)
_PREFERENCES = Multiple(Single({"type": required("raw"), "value": required("raw")}), presence=0)


def get_site_info(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    me = call.state.users[call.userid]
    picture = f"{call.url}/theme/image.php/boost/core/{exporters.THEME_REV}/u/f1"
    features = (
        ("usecomments", 1),
        ("usetags", 1),
        ("enablenotes", 1),
        ("messaging", 1),
        ("enableblogs", 1),
        ("enablecompletion", int(call.state.completion_enabled)),
        ("enablebadges", 1),
        ("messagingallusers", 0),
        ("enablecustomreports", 1),
        ("enableglobalsearch", 0),
        ("mnet_dispatcher_mode", 0),
    )
    return {
        "sitename": SITE_INFO["sitename"],
        "username": me.username,
        "firstname": me.firstname,
        "lastname": me.lastname,
        "fullname": me.fullname,
        "lang": me.lang,
        "userid": me.id,
        "siteurl": call.url,
        "userpictureurl": picture,
        "functions": [{"name": n, "version": SITE_INFO["version"]} for n in call.functions],
        "downloadfiles": 0,
        "uploadfiles": 0,
        "release": SITE_INFO["release"],
        "version": SITE_INFO["version"],
        "mobilecssurl": "",
        "advancedfeatures": [{"name": n, "value": v} for n, v in features],
        "usercanmanageownfiles": True,
        "userquota": 104857600,
        "usermaxuploadfilesize": 67108864,
        "userhomepage": 1,
        "userprivateaccesskey": SITE_INFO["userprivateaccesskey"],
        "siteid": 1,
        "sitecalendartype": "gregorian",
        "usercalendartype": "gregorian",
        "userissiteadmin": False,
        "theme": "boost",
        "limitconcurrentlogins": 0,
    }


_FIELD_TYPES = {"id": "int", "idnumber": "raw", "username": "username", "email": "raw_trimmed"}


def get_users_by_field(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    field = params["field"]
    if field not in _FIELD_TYPES:
        raise coding_error(
            "invalid field parameter",
            f"The search field '{field}' is not supported, look at the web service documentation",
        )
    wanted: list[Any] = []
    for value in params["values"]:
        cleaned = _clean_lookup(_FIELD_TYPES[field], value)
        if str(cleaned) != value:
            raise invalid_parameter(
                f"The field '{field}' value is invalid: {value}(cleaned value: {cleaned})"
            )
        wanted.append(cleaned)
    chosen = set(wanted)  # one pass over the users, not one per value
    users = sorted(
        (u for u in call.state.users.values() if not u.deleted and getattr(u, field) in chosen),
        key=lambda u: u.id,
    )
    # Moodle returns a user only if the searched field shows (an empty idnumber does not).
    return [d for d in (exporters.user_details(call, u) for u in users) if d.get(field)]


def _clean_lookup(type_: str, value: str) -> Any:
    if type_ == "int":
        return int(value) if re.fullmatch(r"-?[0-9]+", value) else 0
    if type_ == "username":
        return re.sub(r"[^-.@_a-z0-9]", "", value.strip().lower().replace(" ", ""))
    return value.strip() if type_ == "raw_trimmed" else value


def _like(pattern: str, text: str) -> bool:
    """SQL ``LIKE`` without case: ``%`` any run, ``_`` one character."""
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL) is not None


_CRITERIA = ("id", "lastname", "firstname", "idnumber", "username", "email", "auth")


def get_users(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    warnings: list[dict[str, Any]] = []
    tests = []
    used: set[str] = set()
    for criterion in params["criteria"]:
        key, value = criterion["key"], criterion["value"]
        if key in used:
            raise moodle_exception(
                "keyalreadyset",
                "The key has already been set",
                f"The key {key} can only be sent once",
            )
        used.add(key)
        if key not in _CRITERIA:
            warnings.append(
                {
                    "item": key,
                    "warningcode": "invalidfieldparameter",
                    "message": f"The search key '{key}' is not supported, look at the web "
                    "service documentation",
                }
            )
            continue
        if key in ("email", "lastname", "firstname"):
            tests.append(lambda u, k=key, v=value: _like(v, str(getattr(u, k))))
        elif key == "id":
            tests.append(lambda u, v=value: str(u.id) == v.strip())
        else:
            tests.append(lambda u, k=key, v=value: getattr(u, k) == v)
    users = [u for u in call.state.find_users() if tests and all(t(u) for t in tests)]
    return {"users": [exporters.user_details(call, u) for u in users], "warnings": warnings}


def _policy_errors(password: str) -> str:
    """``check_password_policy`` with the recorded site's policy ("" when it passes)."""
    rules = (
        (len(password) >= 8, "Passwords must be at least 8 characters long."),
        (re.search(r"[0-9]", password), "Passwords must have at least 1 digit(s)."),
        (re.search(r"[a-z]", password), "Passwords must have at least 1 lower case letter(s)."),
        (re.search(r"[A-Z]", password), "Passwords must have at least 1 upper case letter(s)."),
        (
            re.search(r"[^a-zA-Z0-9]", password),
            "The password must have at least 1 special character(s) such as *, -, or #.",
        ),
    )
    return "".join(f"<div>{text}</div>" for ok, text in rules if not ok)


def _check_password(password: str) -> None:
    errors = _policy_errors(password)
    if errors:
        # Moodle throws moodle_exception($errmsg): the policy text becomes the error code.
        raise moodle_exception(errors, f"error/{errors}")


def _apply(user: User, fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        if key in ("id", "password", "createpassword", "customfields"):
            continue
        if key == "preferences":
            kept = {name: val for name, val in user.preferences}
            kept.update({p["type"]: p["value"] for p in value})
            user.preferences = list(kept.items())
        elif key in _PROFILE:
            setattr(user, key, value)
        else:
            user.extra[key] = value
    if "customfields" in fields:
        user.extra["customfields"] = fields["customfields"]


def create_users(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    state = call.state
    staged: list[User] = []  # one transaction: nothing is kept unless every user passes
    # Taken usernames and emails, gathered once per call rather than once per user.
    usernames = {u.username for u in state.users.values()}
    emails = {u.email.lower() for u in state.users.values()}
    for fields in params["users"]:
        for name in ("username", "firstname", "lastname"):
            if fields[name].strip() == "":
                raise invalid_parameter(f"The field {name} cannot be blank")
        if fields["username"] in usernames:
            raise invalid_parameter(f"Username already exists: {fields['username']}")
        auth = fields["auth"]
        if auth not in AUTH_PLUGINS:
            raise invalid_parameter(f"Invalid authentication type: {auth}")
        if fields["lang"] not in INSTALLED_LANGS:
            raise invalid_parameter(f"Invalid language code: {fields['lang']}")
        if fields.get("theme") and fields["theme"] not in THEMES:
            raise invalid_parameter(f"Invalid theme: {fields['theme']}")
        internal = auth in INTERNAL_AUTHS
        createpassword = bool(fields.get("createpassword"))
        if internal and not fields.get("password") and not createpassword:
            raise invalid_parameter(
                "Invalid password: you must provide a password, or set createpassword."
            )
        email = fields["email"]
        if not _EMAIL.fullmatch(email):
            raise invalid_parameter(f"Email address is invalid: {email}")
        if email.lower() in emails:
            raise invalid_parameter(f"Email address already exists: {email}")
        if internal and not createpassword:
            _check_password(fields["password"])
        user = User(
            state.next_id("user"),
            fields["username"],
            fields["firstname"],
            fields["lastname"],
            email,
            contextid=state.next_id("context"),
            password_set=internal and not createpassword,
            timecreated=call.now,
            timemodified=call.now,
        )
        _apply(user, fields)
        staged.append(user)
        usernames.add(user.username)
        emails.add(user.email.lower())
    for user in staged:
        state.users[user.id] = user
    return [{"id": u.id, "username": u.username} for u in staged]


def update_users(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    state = call.state
    warnings: list[dict[str, Any]] = []
    for fields in params["users"]:
        try:
            user = state.users.get(fields["id"])
            if user is None:
                raise moodle_exception("invaliduserid", "Invalid user ID")
            if user.id == ADMIN_ID:
                raise moodle_exception("usernotupdatedadmin", "Cannot update admin accounts")
            if user.deleted:
                raise moodle_exception("usernotupdateddeleted", "User is a deleted user")
            if user.id == GUEST_ID:
                raise moodle_exception("usernotupdatedguest", "Cannot update guest account")
            email = fields.get("email")
            if email is not None and email != user.email:
                if not _EMAIL.fullmatch(email):
                    raise moodle_exception("useremailinvalid", "Invalid email address")
                if any(
                    u.email.lower() == email.lower() and u.id != user.id
                    for u in state.users.values()
                ):
                    raise moodle_exception("useremailduplicate", "Duplicate email address")
            username = fields.get("username")
            if username is not None and any(
                u.username == username and u.id != user.id for u in state.users.values()
            ):
                raise moodle_exception(
                    "usernameexists", "This username already exists, choose another"
                )
            if fields.get("password") and fields.get("auth", user.auth) in INTERNAL_AUTHS:
                _check_password(fields["password"])
        except WSError as err:
            warnings.append(
                {
                    "item": "user",
                    "itemid": fields["id"],
                    "warningcode": err.errorcode,
                    "message": err.message,
                }
            )
            continue
        _apply(user, fields)
        user.password_set = user.password_set or bool(fields.get("password"))
        user.timemodified = call.now
    return {"warnings": warnings}


FUNCTIONS: dict[str, Function] = {
    "core_webservice_get_site_info": Function(
        Single({"serviceshortnames": Multiple(required("alphanumext"), presence=2, default=[])}),
        get_site_info,
        xml_nulls=("usersessionscount",),
    ),
    "core_user_get_users_by_field": Function(
        Single({"field": required("alpha"), "values": Multiple(required("raw"))}),
        get_users_by_field,
    ),
    "core_user_get_users": Function(
        Single(
            {"criteria": Multiple(Single({"key": required("alpha"), "value": required("raw")}))}
        ),
        get_users,
    ),
    "core_user_create_users": Function(
        Single(
            {
                "users": Multiple(
                    Single(
                        {
                            "createpassword": optional("bool"),
                            "username": required("username"),
                            "auth": default("plugin", "manual"),
                            "password": optional("raw"),
                            "firstname": required("notags"),
                            "lastname": required("notags"),
                            "email": required("raw_trimmed"),
                            **_PROFILE_FIELDS,
                            "idnumber": default("raw", ""),
                            **_CONTACT_FIELDS,
                            "lang": default("lang", "en"),
                            "calendartype": default("plugin", "gregorian"),
                            "theme": optional("plugin"),
                            "mailformat": optional("int"),
                            "customfields": _CUSTOM,
                            "preferences": _PREFERENCES,
                        }
                    )
                )
            }
        ),
        create_users,
    ),
    "core_user_update_users": Function(
        Single(
            {
                "users": Multiple(
                    Single(
                        {
                            "id": required("int"),
                            "username": optional("username"),
                            "auth": optional("plugin"),
                            "suspended": optional("bool"),
                            "password": optional("raw"),
                            "firstname": optional("notags"),
                            "lastname": optional("notags"),
                            "email": optional("raw_trimmed"),
                            **_PROFILE_FIELDS,
                            "userpicture": optional("int"),
                            "idnumber": optional("raw"),
                            **_CONTACT_FIELDS,
                            "lang": optional("lang"),
                            "calendartype": optional("plugin"),
                            "theme": optional("plugin"),
                            "mailformat": optional("int"),
                            "customfields": _CUSTOM,
                            "preferences": _PREFERENCES,
                        }
                    )
                )
            }
        ),
        update_users,
    ),
}
