"""A local IMS LTI 1.3 / LTI Advantage platform (a Moodle 4.3 stand-in) for an LTI tool's tests.

It serves OIDC third-party initiated login and authentication, Dynamic Registration, Deep
Linking 2.0, NRPS 2.0, AGS 2.0 and the client-credentials token endpoint on 127.0.0.1, and
refuses what the specs say a platform must refuse (see :class:`LocalPlatform`).
"""

from __future__ import annotations

from tests.lti_platform import vocab
from tests.lti_platform.browser import browse_launch
from tests.lti_platform.keys import SigningKey
from tests.lti_platform.model import (
    AuthorizationRefused,
    Call,
    Course,
    Enrolment,
    IssuedToken,
    LaunchStart,
    LineItem,
    Refusal,
    RegisteredTool,
    ResourceLink,
    Score,
    User,
)
from tests.lti_platform.pages import LaunchForm
from tests.lti_platform.server import LocalPlatform

__all__ = [
    "AuthorizationRefused",
    "Call",
    "Course",
    "Enrolment",
    "IssuedToken",
    "LaunchForm",
    "LaunchStart",
    "LineItem",
    "LocalPlatform",
    "Refusal",
    "RegisteredTool",
    "ResourceLink",
    "Score",
    "SigningKey",
    "User",
    "browse_launch",
    "vocab",
]
