"""The LTI 1.3 / Advantage vocabulary the platform speaks: claims, scopes, media types, roles.

Kept in one place so the platform and its tests spell every URI the same way (a typo in a
claim name is exactly the kind of tool bug the platform is meant to catch).
"""

from __future__ import annotations

LTI_VERSION = "1.3.0"

_LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = _LTI + "message_type"
VERSION = _LTI + "version"
DEPLOYMENT_ID = _LTI + "deployment_id"
TARGET_LINK_URI = _LTI + "target_link_uri"
RESOURCE_LINK = _LTI + "resource_link"
ROLES = _LTI + "roles"
CONTEXT = _LTI + "context"
CUSTOM = _LTI + "custom"
LIS = _LTI + "lis"
LAUNCH_PRESENTATION = _LTI + "launch_presentation"
TOOL_PLATFORM = _LTI + "tool_platform"

NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"

_DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
DL_SETTINGS = _DL + "deep_linking_settings"
DL_CONTENT_ITEMS = _DL + "content_items"
DL_DATA = _DL + "data"
DL_MSG = _DL + "msg"
DL_LOG = _DL + "log"
DL_ERRORMSG = _DL + "errormsg"
DL_ERRORLOG = _DL + "errorlog"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
MESSAGE_TYPES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)

_AGS_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPE_LINEITEM = _AGS_SCOPE + "lineitem"
SCOPE_LINEITEM_READONLY = _AGS_SCOPE + "lineitem.readonly"
SCOPE_RESULT_READONLY = _AGS_SCOPE + "result.readonly"
SCOPE_SCORE = _AGS_SCOPE + "score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)
SERVICE_SCOPES = (*AGS_SCOPES, SCOPE_NRPS)

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"

MEDIA_MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_RESULTS = "application/vnd.ims.lis.v2.resultcontainer+json"

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

ROLE_LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
ROLE_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
ROLE_ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
CONTEXT_TYPE_COURSE_SECTION = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseSection"

ACTIVITY_PROGRESS = frozenset({"Initialized", "Started", "InProgress", "Submitted", "Completed"})
GRADING_PROGRESS = frozenset({"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"})

#: The substitution variables this platform fills in custom parameters (Moodle's names).
SUBSTITUTION_VARIABLES = (
    "User.id",
    "User.username",
    "Person.sourcedId",
    "Person.name.full",
    "Person.name.given",
    "Person.name.family",
    "Person.email.primary",
    "Context.id",
    "Context.title",
    "Context.label",
    "CourseSection.sourcedId",
    "CourseSection.title",
    "CourseSection.label",
    "ResourceLink.id",
    "ResourceLink.title",
    "Membership.role",
)
