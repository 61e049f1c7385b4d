"""Configuration: defaults → file → environment, validation naming the key, secrets."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.config import REDACTED, env_name, load_config, redacted, setting_paths
from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.logs import SecretFilter


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An environment with no config file and no MENTORBRIDGE_* variables."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg-config"), "HOME": str(tmp_path)}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mentorbridge.toml"
    path.write_text(text, "utf-8")
    return path


def test_embedded_defaults_need_no_file(home: dict[str, str]) -> None:
    config = load_config(environ=home)
    assert config.path is None
    assert config["lrs"]["endpoint"] == "http://127.0.0.1:8100/xAPI/"
    assert config["outbox"]["batch_size"] == 500
    assert config.store_url.startswith("sqlite:///") and config.store_url.endswith(
        "mentorbridge.sqlite3"
    )
    assert config.get_path("lrs.password") is None  # secrets have no defaults


def test_the_default_file_is_read_when_present(home: dict[str, str], tmp_path: Path) -> None:
    default = Path(home["XDG_CONFIG_HOME"]) / "mentorbridge" / "config.toml"
    default.parent.mkdir(parents=True)
    default.write_text("[outbox]\nbatch_size = 50\n")
    config = load_config(environ=home)
    assert config.path == default and config["outbox"]["batch_size"] == 50


def test_environment_overrides_the_file(home: dict[str, str], tmp_path: Path) -> None:
    path = write(
        tmp_path, '[lrs]\nendpoint = "https://lrs.example.com/xapi/"\n[outbox]\nbatch_size = 50\n'
    )
    config = load_config(path, environ={**home, "MENTORBRIDGE_OUTBOX_BATCH_SIZE": "75"})
    assert config["lrs"]["endpoint"] == "https://lrs.example.com/xapi/"
    assert config["outbox"]["batch_size"] == 75
    assert config.sources["outbox.batch_size"] == "MENTORBRIDGE_OUTBOX_BATCH_SIZE"
    assert config.sources["lrs.endpoint"] == str(path)


def test_an_invalid_value_names_key_value_source_and_expectation(
    home: dict[str, str], tmp_path: Path
) -> None:
    path = write(tmp_path, '[outbox]\nbatch_size = 0\n[lrs]\nauth = "digest"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=home)
    message = str(caught.value)
    assert (
        f"outbox.batch_size (from {path}): 0 is not valid: expected an integer from 1 to 10000"
        in message
    )
    assert "lrs.auth" in message and '"digest"' in message and "basic, bearer, none" in message


def test_an_unknown_key_is_refused_with_a_suggestion(home: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "[outbox]\nbatchsize = 10\n")
    with pytest.raises(
        ConfigError,
        match=r"outbox.batchsize .* is not a Mentorbridge setting; "
        r"did you mean outbox.batch_size\?",
    ):
        load_config(path, environ=home)


def test_an_unknown_environment_variable_is_refused(home: dict[str, str]) -> None:
    with pytest.raises(
        ConfigError,
        match="MENTORBRIDGE_LRS_ENDPIONT is not a Mentorbridge "
        "setting; did you mean MENTORBRIDGE_LRS_ENDPOINT",
    ):
        load_config(environ={**home, "MENTORBRIDGE_LRS_ENDPIONT": "x"})


def test_an_uncoercible_environment_value_names_the_variable(home: dict[str, str]) -> None:
    with pytest.raises(
        ConfigError,
        match=r"outbox.batch_size = 'many' \(from "
        r"MENTORBRIDGE_OUTBOX_BATCH_SIZE\): expected an integer",
    ):
        load_config(environ={**home, "MENTORBRIDGE_OUTBOX_BATCH_SIZE": "many"})


def test_invalid_toml_is_a_config_error(home: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(write(tmp_path, "[lrs\n"), environ=home)


def test_a_missing_explicit_file_is_a_config_error(home: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", environ=home)


def test_secrets_never_come_from_the_config_file(home: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, '[lrs]\npassword = "hunter2hunter2"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=home)
    assert "MENTORBRIDGE_LRS_PASSWORD or lrs.password_file" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_secrets_come_from_the_environment_or_a_file(home: dict[str, str], tmp_path: Path) -> None:
    secret_file = tmp_path / "lrs-password"
    secret_file.write_text("from-a-file-123\n")
    path = write(tmp_path, f'[lrs]\npassword_file = "{secret_file}"\n')
    assert load_config(path, environ=home)["lrs"]["password"] == "from-a-file-123"
    env = {**home, "MENTORBRIDGE_LRS_PASSWORD": "from-the-env-456"}
    assert load_config(path, environ=env)["lrs"]["password"] == "from-the-env-456"


def test_an_unreadable_or_empty_secret_file_is_named(home: dict[str, str], tmp_path: Path) -> None:
    env = {**home, "MENTORBRIDGE_LRS_TOKEN_FILE": str(tmp_path / "missing")}
    with pytest.raises(
        ConfigError, match=r"lrs.token_file = .*MENTORBRIDGE_LRS_TOKEN_FILE.*cannot read"
    ):
        load_config(environ=env)
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match=r"lrs.token: the file .* is empty"):
        load_config(environ={**home, "MENTORBRIDGE_LRS_TOKEN_FILE": str(tmp_path / "empty")})


def test_a_database_password_goes_into_the_url_not_the_file(
    home: dict[str, str], tmp_path: Path
) -> None:
    path = write(tmp_path, '[store]\nurl = "postgresql+psycopg://mb:pw@db.internal/mb"\n')
    with pytest.raises(ConfigError, match=r"store.url"):
        load_config(path, environ=home)
    path = write(tmp_path, '[store]\nurl = "postgresql+psycopg://mb@db.internal/mb"\n')
    config = load_config(path, environ={**home, "MENTORBRIDGE_STORE_PASSWORD": "s3cr3t-pw"})
    assert config.store_url == "postgresql+psycopg://mb:s3cr3t-pw@db.internal/mb"


def test_the_lease_must_outlast_a_request(home: dict[str, str]) -> None:
    env = {**home, "MENTORBRIDGE_OUTBOX_LEASE_SECONDS": "30", "MENTORBRIDGE_LRS_READ_TIMEOUT": "60"}
    with pytest.raises(ConfigError, match=r"outbox.lease_seconds = 30: expected more than"):
        load_config(environ=env)


def test_endpoint_credentials_in_the_url_are_refused(home: dict[str, str]) -> None:
    env = {**home, "MENTORBRIDGE_LRS_ENDPOINT": "https://user:pw@lrs.example.com/xapi/"}
    with pytest.raises(ConfigError, match=r"lrs.endpoint"):
        load_config(environ=env)


def test_every_setting_has_its_own_environment_variable() -> None:
    names = [env_name(s) for s in setting_paths()]
    assert len(names) == len(set(names))
    assert "MENTORBRIDGE_LRS_PASSWORD_FILE" in names


def test_redaction_masks_every_secret(home: dict[str, str]) -> None:
    config = load_config(
        environ={
            **home,
            "MENTORBRIDGE_LRS_PASSWORD": "pw-123456",
            "MENTORBRIDGE_LRS_TOKEN": "tok-123456",
        }
    )
    shown = redacted(config)
    assert shown["lrs"]["password"] == REDACTED and shown["lrs"]["token"] == REDACTED
    assert config.secrets() == ["pw-123456", "tok-123456"]


def test_config_show_prints_sources_and_masks_secrets(home: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "[outbox]\nbatch_size = 42\n")
    result = CliRunner().invoke(
        cli,
        ["--config", str(path), "config", "show"],
        env={**home, "MENTORBRIDGE_LRS_PASSWORD": "pw-7654321"},
    )
    assert result.exit_code == 0, result.output
    assert f"batch_size = 42  # from {path}" in result.output
    assert 'password = "********"  # from MENTORBRIDGE_LRS_PASSWORD' in result.output
    assert "pw-7654321" not in result.output


def test_cli_exits_2_naming_the_key_of_an_invalid_config(
    home: dict[str, str], tmp_path: Path
) -> None:
    path = write(tmp_path, '[lrs]\nread_timeout = "soon"\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "config", "check"], env=home)
    assert result.exit_code == 2
    assert "configuration error" in result.output
    assert "lrs.read_timeout (from" in result.output and '"soon" is not valid' in result.output


def test_log_records_never_show_a_secret(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.secrets")
    logger.addFilter(SecretFilter(["tok-abcdef123", "x"]))
    with caplog.at_level(logging.INFO, logger="test.secrets"):
        logger.info("calling %s with token %s", "https://lrs", "tok-abcdef123")
    assert caplog.messages == ["calling https://lrs with token ********"]


def test_config_check_reports_every_problem_in_the_file_at_once(
    home: dict[str, str], tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "[outbox]\nbatchsize = 10\nbatch_size = 0\n"
        '[lrs]\nauth = "digest"\n'
        '[store]\nurl = "mysql://mentorbridge@db.internal/mentorbridge"\n',
    )
    env = {**home, "MENTORBRIDGE_LRS_READ_TIMEOUT": "soon"}
    result = CliRunner().invoke(cli, ["--config", str(path), "config", "check"], env=env)
    assert result.exit_code == 2
    output = result.output
    assert output.count("configuration error") == 1
    assert "5 problems in the configuration" in output
    assert f"outbox.batchsize (in {path}) is not a Mentorbridge setting" in output
    assert f"outbox.batch_size (from {path}): 0 is not valid: expected an integer" in output
    assert f'lrs.auth (from {path}): "digest" is not valid' in output
    assert "lrs.read_timeout = 'soon' (from MENTORBRIDGE_LRS_READ_TIMEOUT): expected" in output
    assert f'store.url = "mysql://mentorbridge@db.internal/mentorbridge" (from {path})' in output


def test_an_unknown_key_never_shows_its_value(home: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, '[lrs]\npasword = "hunter2hunter2"\nread_timeout = 0\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=home)
    assert "lrs.pasword (in" in str(caught.value) and "lrs.read_timeout" in str(caught.value)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "mysql://mentorbridge@db.internal/mentorbridge",
        "postgres://mentorbridge@db.internal/mentorbridge",
        "postgresql+psycopg2://mentorbridge@db.internal/mentorbridge",
        "mssql+pyodbc://mentorbridge@db.internal/mentorbridge",
        "/var/lib/mentorbridge/store.sqlite3",
    ],
)
def test_a_store_url_other_than_sqlite_or_postgresql_is_refused(
    home: dict[str, str], url: str
) -> None:
    result = CliRunner().invoke(cli, ["db", "status"], env={**home, "MENTORBRIDGE_STORE_URL": url})
    assert result.exit_code == 2
    assert result.output == (
        f'mentorbridge: configuration error: store.url = "{url}" (from MENTORBRIDGE_STORE_URL): '
        "SQLite (sqlite:///PATH) or PostgreSQL (postgresql+psycopg://…) only\n"
    )


def test_a_password_in_the_store_url_is_refused_and_never_shown(home: dict[str, str]) -> None:
    url = "postgresql+psycopg://mentorbridge:pw-9f8e7d@db.internal/mentorbridge"
    with pytest.raises(ConfigError) as caught:
        load_config(environ={**home, "MENTORBRIDGE_STORE_URL": url})
    message = str(caught.value)
    assert "pw-9f8e7d" not in message
    assert "mentorbridge:********@db.internal" in message
    assert "set MENTORBRIDGE_STORE_PASSWORD or store.password_file" in message


def test_a_postgresql_url_without_a_driver_uses_the_shipped_psycopg(home: dict[str, str]) -> None:
    config = load_config(
        environ={**home, "MENTORBRIDGE_STORE_URL": "postgresql://mentorbridge@db.internal/mb"}
    )
    assert config.store_url == "postgresql+psycopg://mentorbridge@db.internal/mb"
