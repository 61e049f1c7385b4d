"""LTI Advantage services: the token endpoint, Names and Role Provisioning, Assignment and Grade.

``/token`` is OAuth 2 client credentials with a JWT client assertion (RFC 7523, IMS Security
Framework 4.1); the services take its bearer token and check its scopes and their media types.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import jwt
from werkzeug.wrappers import Request, Response

from tests.lti_platform import vocab
from tests.lti_platform.model import AccessToken, Course, LineItem, RegisteredTool, Score
from tests.lti_platform.state import LEEWAY, State, json_response, oauth_error

__all__ = [
    "line_item_endpoint",
    "line_items_endpoint",
    "memberships_endpoint",
    "results_endpoint",
    "scores_endpoint",
    "token_endpoint",
]

# -- /token ------------------------------------------------------------------------------------


def _client_error(state: State, description: str) -> Response:
    # RFC 7523 3.2: a client assertion that does not verify is answered invalid_client.
    return oauth_error(state, "token", 401, "invalid_client", description)


def _verify_assertion(state: State, assertion: str) -> RegisteredTool | Response:
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        return _client_error(state, f"client_assertion is not a JWT: {error}")
    if header.get("alg") != "RS256":
        return _client_error(state, f"client_assertion must be RS256, not {header.get('alg')!r}")
    iss, sub = unverified.get("iss"), unverified.get("sub")
    if not iss or iss != sub:
        return _client_error(state, "client_assertion iss and sub must both be the client_id")
    tool = state.tools.get(iss)
    if tool is None:
        return _client_error(state, f"unknown client {iss!r}")
    kid = header.get("kid")
    if not isinstance(kid, str):
        return _client_error(state, "client_assertion has no kid in its header")
    try:
        key = state.tool_key(tool, kid)
    except Exception as error:  # the tool's JWKS cannot be read: the client can't be checked
        return _client_error(state, f"cannot read the tool's JWKS at {tool.jwks_uri}: {error}")
    if key is None:
        return _client_error(state, f"no key with kid {kid!r} in the tool's JWKS")
    try:
        claims = jwt.decode(
            assertion,
            key,
            algorithms=["RS256"],
            audience=state.token_endpoint,
            leeway=LEEWAY,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
        )
    except jwt.InvalidAudienceError:
        return _client_error(state, f"client_assertion aud must be {state.token_endpoint}")
    except jwt.PyJWTError as error:
        return _client_error(state, f"client_assertion does not verify: {error}")
    now = time.time()
    state.used_jtis = {j: exp for j, exp in state.used_jtis.items() if exp + LEEWAY > now}
    if claims["jti"] in state.used_jtis:
        return _client_error(state, "client_assertion jti was already used")
    state.used_jtis[claims["jti"]] = float(claims["exp"])
    return tool


def token_endpoint(state: State, request: Request) -> Response:
    """``POST /token``."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return oauth_error(
            state, "token", 400, "invalid_request", "the body must be form-urlencoded"
        )
    form = request.form
    if form.get("grant_type") != "client_credentials":
        return oauth_error(
            state,
            "token",
            400,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        )
    if form.get("client_assertion_type") != vocab.CLIENT_ASSERTION_TYPE or not form.get(
        "client_assertion"
    ):
        return _client_error(
            state, f"client_assertion_type {vocab.CLIENT_ASSERTION_TYPE} and a client_assertion"
        )
    if not form.get("scope"):
        return oauth_error(state, "token", 400, "invalid_request", "scope is required")
    verified = _verify_assertion(state, form["client_assertion"])
    if isinstance(verified, Response):
        return verified
    granted = [s for s in dict.fromkeys(form["scope"].split()) if s in verified.scopes]
    if not granted:
        return oauth_error(
            state,
            "token",
            400,
            "invalid_scope",
            f"none of the scopes asked for is granted to this tool ({verified.scopes})",
        )
    token = AccessToken(
        secrets.token_urlsafe(24),
        verified.client_id,
        frozenset(granted),
        time.time() + state.settings.access_token_ttl,
    )
    state.access_tokens[token.token] = token
    body = {
        "access_token": token.token,
        "token_type": "Bearer",
        "expires_in": state.settings.access_token_ttl,
        "scope": " ".join(granted),
    }
    return json_response(body, headers={"Cache-Control": "no-store"})


# -- shared service checks ---------------------------------------------------------------------


def _bearer(
    state: State, request: Request, endpoint: str, scopes: Sequence[str]
) -> AccessToken | Response:
    """The request's access token when it holds one of ``scopes``; else the 401/403."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    token = state.access_tokens.get(value) if scheme.lower() == "bearer" else None
    if token is None or token.expires_at <= time.time():
        reason = "no bearer token" if not value else "unknown or expired access token"
        return oauth_error(
            state,
            endpoint,
            401,
            "invalid_token",
            reason,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if not token.scopes & set(scopes):
        return oauth_error(
            state,
            endpoint,
            403,
            "insufficient_scope",
            f"the token needs one of the scopes {list(scopes)}",
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
        )
    return token


def _accepts(request: Request, media_type: str) -> bool:
    for part in request.headers.get("Accept", "").split(","):
        if part.split(";")[0].strip().lower() == media_type:
            return True
    return False


def _media_error(
    state: State, request: Request, endpoint: str, accept: str | None, content: str | None
) -> Response | None:
    """406/415 when the request does not name the service's media type (spec: it must)."""
    if not state.settings.strict_media_types:
        return None
    if accept is not None and not _accepts(request, accept):
        return oauth_error(
            state, endpoint, 406, "not_acceptable", f"the Accept header must name {accept}"
        )
    if content is not None and request.mimetype != content:
        return oauth_error(
            state, endpoint, 415, "unsupported_media_type", f"Content-Type must be {content}"
        )
    return None


def _page_params(state: State, request: Request, endpoint: str) -> tuple[int, int] | Response:
    try:
        limit = int(request.args.get("limit", state.settings.page_size))
        offset = int(request.args.get("from", 0))
    except ValueError:
        return oauth_error(state, endpoint, 400, "invalid_request", "limit and from are numbers")
    if limit < 1 or offset < 0:
        return oauth_error(state, endpoint, 400, "invalid_request", "limit >= 1, from >= 0")
    return limit, offset


def _paged(
    items: list[Any],
    limit: int,
    offset: int,
    base: str,
    query: dict[str, str],
) -> tuple[list[Any], dict[str, str]]:
    """One page, and the Link header to the next one (none on the last page)."""
    page = items[offset : offset + limit]
    headers = {}
    if offset + limit < len(items):
        next_query = {**query, "limit": str(limit), "from": str(offset + limit)}
        headers["Link"] = f'<{base}?{urlencode(next_query)}>; rel="next"'
    return page, headers


def _course(state: State, course_id: str, endpoint: str) -> Course | Response:
    course = state.courses.get(course_id)
    if course is None:
        return oauth_error(state, endpoint, 404, "not_found", f"no course {course_id!r}")
    return course


# -- NRPS --------------------------------------------------------------------------------------


def _has_role(roles: list[str], wanted: str) -> bool:
    return any(r == wanted or r.rsplit("#", 1)[-1] == wanted for r in roles)


def memberships_endpoint(state: State, request: Request, course_id: str) -> Response:
    """``GET /api/lti/courses/<context_id>/memberships`` (NRPS 2.0)."""
    endpoint = "memberships"
    token = _bearer(state, request, endpoint, [vocab.SCOPE_NRPS])
    if isinstance(token, Response):
        return token
    media = _media_error(state, request, endpoint, vocab.MEDIA_MEMBERSHIPS, None)
    if media:
        return media
    course = _course(state, course_id, endpoint)
    if isinstance(course, Response):
        return course
    paging = _page_params(state, request, endpoint)
    if isinstance(paging, Response):
        return paging
    tool = state.tools[token.client_id]
    role = request.args.get("role")
    members = []
    for enrolment in course.enrolments.values():
        if role and not _has_role(enrolment.roles, role):
            continue
        user = state.users[enrolment.sub]
        member: dict[str, Any] = {
            "status": enrolment.status,
            "user_id": user.sub,
            "roles": list(enrolment.roles),
        }
        if tool.sends_name:
            member.update(name=user.name, given_name=user.given_name, family_name=user.family_name)
        if tool.sends_email:
            member["email"] = user.email
        if user.person_sourcedid:
            member["lis_person_sourcedid"] = user.person_sourcedid
        members.append(member)
    url = state.memberships_url(course.context_id)
    query = {"role": role} if role else {}
    page, headers = _paged(members, *paging, url, query)
    body = {
        "id": url,
        "context": {"id": course.context_id, "label": course.label, "title": course.title},
        "members": page,
    }
    return json_response(body, content_type=vocab.MEDIA_MEMBERSHIPS, headers=headers)


# -- AGS ---------------------------------------------------------------------------------------


def _timestamp(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"{name} {value!r} is not ISO 8601") from error
    if parsed.tzinfo is None:
        raise ValueError(f"{name} {value!r} has no time zone offset")
    return parsed


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _line_item_fields(state: State, body: Any, course_id: str, client_id: str) -> dict[str, Any]:
    """The line item fields of a POST/PUT body; ValueError naming the problem."""
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    label = body.get("label")
    if not isinstance(label, str) or not label.strip():
        raise ValueError("label is required")
    maximum = body.get("scoreMaximum")
    if not _number(maximum) or maximum <= 0:
        raise ValueError("scoreMaximum must be a number above 0")
    fields: dict[str, Any] = {"label": label, "score_maximum": float(maximum)}
    for name, attribute in (("resourceId", "resource_id"), ("tag", "tag")):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} must be a string")
        fields[attribute] = value
    link_id = body.get("resourceLinkId")
    if link_id is not None:
        link = state.resource_links.get((course_id, link_id)) if isinstance(link_id, str) else None
        if link is None or link.client_id != client_id:
            raise ValueError(f"resourceLinkId {link_id!r} is not a resource link of this tool")
    fields["resource_link_id"] = link_id
    for name, attribute in (("startDateTime", "start_date_time"), ("endDateTime", "end_date_time")):
        if body.get(name) is not None:
            _timestamp(body[name], name)
        fields[attribute] = body.get(name)
    released = body.get("gradesReleased")
    if released is not None and not isinstance(released, bool):
        raise ValueError("gradesReleased must be true or false")
    fields["grades_released"] = released
    return fields


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.get_data(as_text=True))
    except ValueError as error:
        raise ValueError("the body is not JSON") from error


def _visible(item: LineItem, client_id: str) -> bool:
    return item.client_id in (None, client_id)


def _find_line_item(
    state: State, course_id: str, key: str, client_id: str, endpoint: str
) -> LineItem | Response:
    item = state.line_items.get(key)
    if item is None or item.course_id != course_id or not _visible(item, client_id):
        return oauth_error(state, endpoint, 404, "not_found", f"no line item {key!r} here")
    return item


def line_items_endpoint(state: State, request: Request, course_id: str) -> Response:
    """``GET/POST /api/lti/courses/<context_id>/line_items``."""
    endpoint = "line_items"
    reading = request.method == "GET"
    scopes = (
        [vocab.SCOPE_LINEITEM, vocab.SCOPE_LINEITEM_READONLY] if reading else [vocab.SCOPE_LINEITEM]
    )
    token = _bearer(state, request, endpoint, scopes)
    if isinstance(token, Response):
        return token
    if reading:
        media = _media_error(state, request, endpoint, vocab.MEDIA_LINEITEMS, None)
    else:
        media = _media_error(state, request, endpoint, None, vocab.MEDIA_LINEITEM)
    if media:
        return media
    course = _course(state, course_id, endpoint)
    if isinstance(course, Response):
        return course
    if reading:
        paging = _page_params(state, request, endpoint)
        if isinstance(paging, Response):
            return paging
        filters = {
            "resource_link_id": "resource_link_id",
            "resource_id": "resource_id",
            "tag": "tag",
        }
        query = {k: request.args[k] for k in filters if k in request.args}
        items = [
            item.to_json()
            for item in state.line_items.values()
            if item.course_id == course_id
            and _visible(item, token.client_id)
            and all(getattr(item, filters[k]) == v for k, v in query.items())
        ]
        page, headers = _paged(items, *paging, state.line_items_url(course_id), query)
        return json_response(page, content_type=vocab.MEDIA_LINEITEMS, headers=headers)
    try:
        fields = _line_item_fields(state, _json_body(request), course_id, token.client_id)
    except ValueError as error:
        return oauth_error(state, endpoint, 400, "invalid_request", str(error))
    key = state.next_id()
    item = LineItem(
        key=key,
        course_id=course_id,
        url=f"{state.line_items_url(course_id)}/{key}",
        client_id=token.client_id,
        **fields,
    )
    state.line_items[key] = item
    return json_response(item.to_json(), 201, content_type=vocab.MEDIA_LINEITEM)


def line_item_endpoint(state: State, request: Request, course_id: str, key: str) -> Response:
    """``GET/PUT/DELETE /api/lti/courses/<context_id>/line_items/<id>``."""
    endpoint = "line_item"
    reading = request.method == "GET"
    scopes = (
        [vocab.SCOPE_LINEITEM, vocab.SCOPE_LINEITEM_READONLY] if reading else [vocab.SCOPE_LINEITEM]
    )
    token = _bearer(state, request, endpoint, scopes)
    if isinstance(token, Response):
        return token
    accept = vocab.MEDIA_LINEITEM if reading else None
    content = vocab.MEDIA_LINEITEM if request.method == "PUT" else None
    media = _media_error(state, request, endpoint, accept, content)
    if media:
        return media
    item = _find_line_item(state, course_id, key, token.client_id, endpoint)
    if isinstance(item, Response):
        return item
    if request.method == "DELETE":
        del state.line_items[key]
        for score_key in [k for k in state.latest_scores if k[0] == item.url]:
            del state.latest_scores[score_key]
        return Response(status=204)
    if request.method == "PUT":
        try:
            body = _json_body(request)
            fields = _line_item_fields(state, body, course_id, token.client_id)
            if body.get("id") not in (None, item.url):
                raise ValueError(f"id must be this line item's URL {item.url}")
            if fields["resource_link_id"] not in (None, item.resource_link_id):
                raise ValueError("resourceLinkId cannot be changed")
        except ValueError as error:
            return oauth_error(state, endpoint, 400, "invalid_request", str(error))
        fields["resource_link_id"] = fields["resource_link_id"] or item.resource_link_id
        for name, value in fields.items():
            setattr(item, name, value)
    return json_response(item.to_json(), content_type=vocab.MEDIA_LINEITEM)


def _score(body: Any, course: Course) -> dict[str, Any]:
    """The checked score; ValueError naming the problem (AGS 2.0 3.4)."""
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    user_id = body.get("userId")
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("userId is required")
    enrolment = course.enrolments.get(user_id)
    if enrolment is None:
        raise ValueError(f"userId {user_id!r} is not a member of the course")
    if not _has_role(enrolment.roles, "Learner"):
        raise ValueError(f"userId {user_id!r} is not gradable (not a Learner) in the course")
    _timestamp(body.get("timestamp"), "timestamp")
    if body.get("activityProgress") not in vocab.ACTIVITY_PROGRESS:
        raise ValueError(f"activityProgress must be one of {sorted(vocab.ACTIVITY_PROGRESS)}")
    if body.get("gradingProgress") not in vocab.GRADING_PROGRESS:
        raise ValueError(f"gradingProgress must be one of {sorted(vocab.GRADING_PROGRESS)}")
    given, maximum = body.get("scoreGiven"), body.get("scoreMaximum")
    if given is not None:
        if not _number(given) or given < 0:
            raise ValueError("scoreGiven must be a number >= 0")
        if maximum is None:
            raise ValueError("scoreMaximum is required with scoreGiven")
    if maximum is not None and (not _number(maximum) or maximum <= 0):
        raise ValueError("scoreMaximum must be a number above 0")
    if body.get("comment") is not None and not isinstance(body["comment"], str):
        raise ValueError("comment must be a string")
    submission = body.get("submission")
    if submission is not None:
        if not isinstance(submission, dict):
            raise ValueError("submission must be an object")
        for name in ("startedAt", "submittedAt"):
            if submission.get(name) is not None:
                _timestamp(submission[name], f"submission.{name}")
    return body


def _stale(state: State, previous: Score | None, timestamp: str) -> bool:
    """AGS: the platform must not update a result from a score older than the one it holds.
    Moodle compares whole seconds and refuses an equal one too."""
    if previous is None:
        return False
    old, new = datetime.fromisoformat(previous.timestamp), datetime.fromisoformat(timestamp)
    if state.settings.product == "moodle":
        return int(old.timestamp()) >= int(new.timestamp())
    return old > new


def scores_endpoint(state: State, request: Request, course_id: str, key: str) -> Response:
    """``POST .../line_items/<id>/scores``."""
    endpoint = "scores"
    token = _bearer(state, request, endpoint, [vocab.SCOPE_SCORE])
    if isinstance(token, Response):
        return token
    media = _media_error(state, request, endpoint, None, vocab.MEDIA_SCORE)
    if media:
        return media
    item = _find_line_item(state, course_id, key, token.client_id, endpoint)
    if isinstance(item, Response):
        return item
    try:
        body = _score(_json_body(request), state.courses[course_id])
    except ValueError as error:
        return oauth_error(state, endpoint, 400, "invalid_request", str(error))
    previous = state.latest_scores.get((item.url, body["userId"]))
    if _stale(state, previous, body["timestamp"]):
        description = (
            f"Refusing score with an earlier timestamp for item {item.key} "
            f"and user {body['userId']}"
        )
        return oauth_error(state, endpoint, 409, "conflict", description)
    graded = body["gradingProgress"] == "FullyGraded"
    score = Score(
        line_item=item.url,
        user_id=body["userId"],
        # Moodle keeps no grade unless the tool says it is FullyGraded.
        score_given=body.get("scoreGiven") if graded else None,
        score_maximum=body.get("scoreMaximum"),
        comment=body.get("comment"),
        timestamp=body["timestamp"],
        activity_progress=body["activityProgress"],
        grading_progress=body["gradingProgress"],
        body=body,
    )
    state.scores.append(score)
    state.latest_scores[(item.url, score.user_id)] = score
    return Response(status=200)


def _result(item: LineItem, score: Score) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": f"{item.url}/results/{quote(score.user_id, safe='')}",
        "scoreOf": item.url,
        "userId": score.user_id,
        "resultMaximum": item.score_maximum,
    }
    if score.score_given is not None and score.score_maximum:
        result["resultScore"] = score.score_given * item.score_maximum / score.score_maximum
    if score.comment is not None:
        result["comment"] = score.comment
    return result


def results_endpoint(state: State, request: Request, course_id: str, key: str) -> Response:
    """``GET .../line_items/<id>/results``."""
    endpoint = "results"
    token = _bearer(state, request, endpoint, [vocab.SCOPE_RESULT_READONLY])
    if isinstance(token, Response):
        return token
    media = _media_error(state, request, endpoint, vocab.MEDIA_RESULTS, None)
    if media:
        return media
    item = _find_line_item(state, course_id, key, token.client_id, endpoint)
    if isinstance(item, Response):
        return item
    paging = _page_params(state, request, endpoint)
    if isinstance(paging, Response):
        return paging
    user_id = request.args.get("user_id")
    results = [
        _result(item, score)
        for (url, user), score in state.latest_scores.items()
        if url == item.url and (user_id is None or user == user_id)
    ]
    query = {"user_id": user_id} if user_id else {}
    page, headers = _paged(results, *paging, f"{item.url}/results", query)
    return json_response(page, content_type=vocab.MEDIA_RESULTS, headers=headers)
