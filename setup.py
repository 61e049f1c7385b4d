"""Install the source folders under one ``mentorbridge`` namespace.

The repository keeps ``plugin/``, ``connectors/``, ``xapi/`` and ``schemas/`` at the top, but a
customer's environment must not gain generic top-level names (``schemas``, ``xapi`` and
``connectors`` already exist on the public index): each folder installs as
``mentorbridge.<folder>``. Everything else about the package is in ``pyproject.toml``.
"""

from setuptools import find_namespace_packages, setup

ROOTS = ("plugin", "connectors", "xapi", "schemas")

setup(
    # Namespace discovery, so that folders holding only data (schemas/webhooks, templates) are
    # packages too, as Python sees them.
    packages=[
        f"mentorbridge.{name}"
        for name in find_namespace_packages(
            include=[pattern for root in ROOTS for pattern in (root, f"{root}.*")],
            exclude=["*__pycache__*"],
        )
    ],
    package_dir={f"mentorbridge.{root}": root for root in ROOTS},
)
