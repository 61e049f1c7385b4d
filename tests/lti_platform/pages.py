"""The HTML the platform answers: auto-submitting forms (OIDC form_post) and plain messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser

__all__ = ["LaunchForm", "auto_submit_page", "message_page"]


@dataclass(frozen=True)
class LaunchForm:
    """A form the browser auto-submits: ``action`` and its hidden ``fields``.

    The authentication response is one (``id_token`` and ``state``, or ``error``,
    ``error_description`` and ``state``), POSTed to the tool's redirect_uri.
    """

    action: str
    fields: dict[str, str] = field(default_factory=dict)
    method: str = "post"

    @property
    def id_token(self) -> str | None:
        return self.fields.get("id_token")

    @property
    def state(self) -> str | None:
        return self.fields.get("state")

    @property
    def error(self) -> str | None:
        return self.fields.get("error")

    @classmethod
    def parse(cls, html: str | bytes) -> LaunchForm:
        """The first form of a page and its inputs (ValueError when there is no form)."""
        text = html.decode("utf-8") if isinstance(html, bytes) else html
        parser = _FormParser()
        parser.feed(text)
        parser.close()
        if parser.action is None:
            raise ValueError("the page has no <form>")
        return cls(parser.action, parser.fields, parser.method)

    def html(self) -> str:
        """The page a browser would get (what ``/auth`` answers)."""
        return auto_submit_page(self.action, self.fields, self.method)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.action: str | None = None
        self.method = "post"
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done and self.action is None:
            self.action = values.get("action", "")
            self.method = values.get("method", "get").lower()
            self._in_form = True
        elif tag == "input" and self._in_form and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def auto_submit_page(action: str, fields: dict[str, str], method: str = "post") -> str:
    """A page whose form submits itself on load (like Moodle's ``lti_post_launch_html``)."""
    inputs = "\n".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}"/>'
        for name, value in fields.items()
    )
    return (
        "<!DOCTYPE html>\n<html><head><title>Launching</title></head><body>\n"
        f'<form action="{escape(action)}" name="ltiLaunchForm" id="ltiLaunchForm" '
        f'method="{escape(method)}" enctype="application/x-www-form-urlencoded">\n'
        f"{inputs}\n"
        '<noscript><input type="submit" value="Continue"/></noscript>\n'
        "</form>\n"
        "<script>document.getElementById('ltiLaunchForm').submit();</script>\n"
        "</body></html>\n"
    )


def message_page(title: str, text: str) -> str:
    """A plain page: what the platform shows a person when there is nothing to submit."""
    return (
        f"<!DOCTYPE html>\n<html><head><title>{escape(title)}</title></head><body>\n"
        f"<h1>{escape(title)}</h1>\n<p>{escape(text)}</p>\n</body></html>\n"
    )


#: The platform's side of LTI client-side postMessage storage (lti-cs-oidc, lti-pm-s): what a
#: tool framed in the page puts is kept per origin and given back to that origin only.
_STORAGE_SCRIPT = """
var kept = {};
window.addEventListener("message", function (event) {
  var data = event.data || {}, bucket = kept[event.origin] = kept[event.origin] || {};
  var answer = {message_id: data.message_id, key: data.key};
  if (data.subject === "lti.put_data") {
    bucket[data.key] = data.value;
    answer.subject = "lti.put_data.response";
    answer.value = data.value;
  } else if (data.subject === "lti.get_data") {
    answer.subject = "lti.get_data.response";
    answer.value = bucket[data.key];
  } else {
    return;
  }
  event.source.postMessage(answer, event.origin);
});
"""


def course_page(src: str) -> str:
    """A course page embedding a tool launch in an iframe, as Moodle's "Embed" container."""
    return (
        "<!DOCTYPE html>\n<html><head><title>Course</title></head><body>\n"
        f"<script>{_STORAGE_SCRIPT}</script>\n"
        f'<iframe id="tool" src="{escape(src)}" width="900" height="600"></iframe>\n'
        "</body></html>\n"
    )
