"""The built wheel installs everything under one ``mentorbridge`` namespace and nothing else."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("mentorbridge-*.whl")
    return zipfile.ZipFile(built)


def test_wheel_adds_no_top_level_name_but_mentorbridge(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/", 1)[0] for name in wheel.namelist()}
    dist_info = {top for top in tops if top.endswith((".dist-info", ".data"))}
    assert tops - dist_info == {"mentorbridge"}
    assert "mentorbridge/__init__.py" not in wheel.namelist()  # a namespace, shared by nobody


def test_wheel_carries_the_data_files_the_code_loads(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for expected in (
        "mentorbridge/schemas/config.schema.json",
        "mentorbridge/schemas/mapping.schema.json",
        "mentorbridge/plugin/mapping/default.toml",
        "mentorbridge/schemas/openapi.yaml",
        "mentorbridge/schemas/webhooks/examples/pair.created.json",
        "mentorbridge/xapi/profile/reverse-mentoring.jsonld",
        "mentorbridge/plugin/store/migrations/env.py",
        "mentorbridge/connectors/workday/sample/data/workers.json",
        "mentorbridge/connectors/moodle/localsite/server.py",  # the demo pushes to it
    ):
        assert expected in names, expected
    assert any(n.startswith("mentorbridge/plugin/store/migrations/versions/0001") for n in names)
    assert any(n.startswith("mentorbridge/plugin/web/templates/") for n in names)


def test_wheel_entry_point_names_the_namespaced_cli(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "mentorbridge = mentorbridge.plugin.cli:main" in text
