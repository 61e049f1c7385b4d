"""A local Moodle-shaped site: the REST web services the Moodle connector calls, answered as a
real Moodle 4.3 site answers them, with state, for tests, benchmarks and the demo."""

from .errors import WSError
from .functions import IMPLEMENTED_FUNCTIONS, RECORDED_SERVICE_FUNCTIONS
from .server import ENDPOINT, LocalMoodleSite
from .state import SiteState

__all__ = [
    "ENDPOINT",
    "IMPLEMENTED_FUNCTIONS",
    "RECORDED_SERVICE_FUNCTIONS",
    "LocalMoodleSite",
    "SiteState",
    "WSError",
]
