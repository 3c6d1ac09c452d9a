"""``settings.load_settings``: defaults < TOML < environment < overrides; credentials; errors."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from cosflow.errors import ConfigError
from cosflow.settings import DEV_CREDENTIALS_FILE, KeyPair, Settings, load_settings

ENV_PAIR = {"COSFLOW_SECRET_ID": "AKIDenv", "COSFLOW_SECRET_KEY": "envkey"}


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cosflow.toml"
    path.write_text(text)
    return path


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(env=ENV_PAIR)
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.appid == "1250000000"
    assert settings.region == "ap-guangzhou"
    assert settings.domains == ("myqcloud.com", "tencentcos.cn")
    assert settings.min_part_bytes == 1024 * 1024
    assert settings.max_object_bytes == 5 * 1024**3
    assert settings.endpoint == "http://127.0.0.1:8080"
    assert settings.effective_public_url == "http://127.0.0.1:8080"
    assert settings.effective_database_url == f"sqlite:///{Path('data') / 'cosflow.db'}"


def test_the_process_environment_is_not_read_when_env_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSFLOW_PORT", "1234")
    assert load_settings(env=ENV_PAIR).port == 8080


def test_precedence_defaults_toml_env_overrides(tmp_path: Path) -> None:
    config = write_toml(
        tmp_path,
        """
        host = "0.0.0.0"
        port = 9000
        region = "ap-shanghai"
        log_level = "debug"
        domains = ["example.test"]
        """,
    )
    env = {**ENV_PAIR, "COSFLOW_PORT": "9100", "COSFLOW_REGION": "ap-beijing", "COSFLOW_DOMAINS": "a.test, b.test"}
    settings = load_settings(config, env=env, port=9200)
    assert settings.appid == "1250000000"  # default: nobody set it
    assert settings.host == "0.0.0.0"  # TOML over default
    assert settings.log_level == "debug"  # TOML over default
    assert settings.region == "ap-beijing"  # env over TOML
    assert settings.domains == ("a.test", "b.test")  # env over TOML, comma separated
    assert settings.port == 9200  # override over env


def test_toml_values_are_coerced(tmp_path: Path) -> None:
    config = write_toml(
        tmp_path,
        """
        appid = 1300000000
        data_dir = "some/dir"
        min_part_bytes = 5
        domains = ["x.test", "y.test"]
        """,
    )
    settings = load_settings(config, env=ENV_PAIR)
    assert settings.appid == "1300000000"
    assert settings.data_dir == tmp_path / "some/dir"  # relative to the TOML file, not the cwd
    assert settings.min_part_bytes == 5
    assert settings.domains == ("x.test", "y.test")
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'some/dir' / 'cosflow.db'}"


def test_env_values_are_coerced(tmp_path: Path) -> None:
    env = {**ENV_PAIR, "COSFLOW_PORT": "18080", "COSFLOW_DATA_DIR": str(tmp_path), "COSFLOW_MAX_XML_BYTES": "10"}
    settings = load_settings(env=env)
    assert settings.port == 18080
    assert settings.data_dir == tmp_path
    assert settings.max_xml_bytes == 10


def test_empty_env_values_and_none_overrides_are_ignored(tmp_path: Path) -> None:
    config = write_toml(tmp_path, 'region = "ap-chengdu"\nport = 9000\n')
    settings = load_settings(config, env={**ENV_PAIR, "COSFLOW_REGION": ""}, port=None, region=None)
    assert settings.region == "ap-chengdu"
    assert settings.port == 9000


def test_overrides_are_coerced() -> None:
    settings = load_settings(env=ENV_PAIR, port="7000", data_dir="x")
    assert settings.port == 7000
    assert settings.data_dir == Path("x")


def test_public_url_setting(tmp_path: Path) -> None:
    settings = load_settings(env={**ENV_PAIR, "COSFLOW_PUBLIC_URL": "https://cos.example/"})
    assert settings.effective_public_url == "https://cos.example"


@pytest.mark.parametrize(("source", "value"), [("env", "COSFLOW_PORT"), ("override", "port")])
def test_bad_integer(source: str, value: str) -> None:
    with pytest.raises(ConfigError, match="port"):
        if source == "env":
            load_settings(env={**ENV_PAIR, value: "eighty"})
        else:
            load_settings(env=ENV_PAIR, **{value: "eighty"})


def test_a_misspelt_switch_is_an_error_not_false() -> None:
    with pytest.raises(ConfigError, match="callback_deny_private"):
        load_settings(env={**ENV_PAIR, "COSFLOW_CALLBACK_DENY_PRIVATE": "ture"})
    assert load_settings(env={**ENV_PAIR, "COSFLOW_CALLBACK_DENY_PRIVATE": "off"}).callback_deny_private is False


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("COSFLOW_CALLBACK_CONCURRENCY", "0", "callback_concurrency"),
        ("COSFLOW_CALLBACK_DESTINATION_CONCURRENCY", "0", "callback_destination_concurrency"),
        ("COSFLOW_CALLBACK_TIMEOUT", "0", "callback_timeout"),
        ("COSFLOW_TASK_TIMEOUT_SECONDS", "-5", "task_timeout_seconds"),
        ("COSFLOW_CALLBACK_RETRY_SCHEDULE", "0,-1", "callback_retry_schedule"),
        ("COSFLOW_BLOB_STORE", "s4", "blob_store"),
        ("COSFLOW_S3_PART_BYTES", "1048576", "s3_part_bytes"),
        ("COSFLOW_S3_ADDRESSING_STYLE", "host", "s3_addressing_style"),
        ("COSFLOW_S3_ACCESS_KEY_ID", "AKIAonlyhalf", "s3_secret_access_key"),
    ],
)
def test_values_that_would_break_the_server_are_refused(variable: str, value: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(env={**ENV_PAIR, variable: value})


def test_the_s3_store_needs_a_bucket_and_reads_its_settings_from_env() -> None:
    with pytest.raises(ConfigError, match="blob_store = s3 needs s3_bucket"):
        load_settings(env={**ENV_PAIR, "COSFLOW_BLOB_STORE": "s3"})
    env = {
        "COSFLOW_BLOB_STORE": "s3",
        "COSFLOW_S3_BUCKET": "media",
        "COSFLOW_S3_ENDPOINT_URL": "http://minio:9000",
        "COSFLOW_S3_PREFIX": "prod/",
        "COSFLOW_S3_REGION": "eu-west-1",
        "COSFLOW_S3_ACCESS_KEY_ID": "AKIAexample",
        "COSFLOW_S3_SECRET_ACCESS_KEY": "s3-secret-value",
        "COSFLOW_S3_PART_BYTES": str(16 * 1024 * 1024),
    }
    settings = load_settings(env={**ENV_PAIR, **env})
    assert (settings.blob_store, settings.s3_bucket, settings.s3_endpoint_url) == ("s3", "media", "http://minio:9000")
    assert (settings.s3_prefix, settings.s3_region, settings.s3_part_bytes) == ("prod/", "eu-west-1", 16 * 1024 * 1024)
    assert settings.s3_secret_access_key == "s3-secret-value"
    assert "s3-secret-value" not in repr(settings)  # never in a log line that prints the settings
    assert load_settings(env=ENV_PAIR).blob_store == "filesystem"
    with pytest.raises(ConfigError, match="max_object_bytes is at most 5 GiB"):
        load_settings(env={**ENV_PAIR, **env, "COSFLOW_MAX_OBJECT_BYTES": str(6 * 1024**3)})


def test_appid_must_be_digits() -> None:
    with pytest.raises(ConfigError, match="appid"):
        load_settings(env={**ENV_PAIR, "COSFLOW_APPID": "12ab"})


# --- credentials -----------------------------------------------------------------------------------------
def test_credentials_from_toml(tmp_path: Path) -> None:
    config = write_toml(
        tmp_path,
        """
        [[credentials]]
        secret_id = "AKIDone"
        secret_key = "keyone"

        [[credentials]]
        secret_id = "AKIDtwo"
        secret_key = "keytwo"
        """,
    )
    settings = load_settings(config, env={}, data_dir=tmp_path / "data")
    assert settings.credentials == (KeyPair("AKIDone", "keyone"), KeyPair("AKIDtwo", "keytwo"))
    assert not (tmp_path / "data" / DEV_CREDENTIALS_FILE).exists()


def test_env_pair_comes_first_and_toml_pairs_are_kept(tmp_path: Path) -> None:
    config = write_toml(tmp_path, '[[credentials]]\nsecret_id = "AKIDfile"\nsecret_key = "filekey"\n')
    settings = load_settings(config, env=ENV_PAIR)
    assert settings.credentials == (KeyPair("AKIDenv", "envkey"), KeyPair("AKIDfile", "filekey"))


def test_credentials_entry_missing_a_field(tmp_path: Path) -> None:
    config = write_toml(tmp_path, '[[credentials]]\nsecret_id = "AKIDone"\n')
    with pytest.raises(ConfigError, match="secret_key"):
        load_settings(config, env={})


@pytest.mark.parametrize("present", ["COSFLOW_SECRET_ID", "COSFLOW_SECRET_KEY"])
def test_only_half_an_env_pair_is_an_error(tmp_path: Path, present: str) -> None:
    with pytest.raises(ConfigError, match="COSFLOW_SECRET_ID and COSFLOW_SECRET_KEY"):
        load_settings(env={present: "value"}, data_dir=tmp_path)
    assert not (tmp_path / DEV_CREDENTIALS_FILE).exists()


def test_dev_pair_is_generated_persisted_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    first = load_settings(env={}, data_dir=data_dir)
    assert len(first.credentials) == 1
    pair = first.credentials[0]
    assert pair.secret_id.startswith("AKID")
    assert len(pair.secret_id) == 36
    assert len(pair.secret_key) == 32
    assert pair.secret_id[4:].isalnum() and pair.secret_key.isalnum()

    stored_file = data_dir / DEV_CREDENTIALS_FILE
    assert json.loads(stored_file.read_text()) == {"secret_id": pair.secret_id, "secret_key": pair.secret_key}
    assert stat.S_IMODE(stored_file.stat().st_mode) == 0o600
    assert [p.name for p in data_dir.iterdir()] == [DEV_CREDENTIALS_FILE]  # no temp file left behind

    second = load_settings(env={"COSFLOW_DATA_DIR": str(data_dir)})
    assert second.credentials == (pair,)


def test_dev_pairs_differ_between_data_dirs(tmp_path: Path) -> None:
    one = load_settings(env={}, data_dir=tmp_path / "one").credentials[0]
    two = load_settings(env={}, data_dir=tmp_path / "two").credentials[0]
    assert one != two
    assert one.secret_key != two.secret_key


def test_no_dev_pair_when_env_pair_is_set(tmp_path: Path) -> None:
    settings = load_settings(env=ENV_PAIR, data_dir=tmp_path)
    assert settings.credentials == (KeyPair("AKIDenv", "envkey"),)
    assert not (tmp_path / DEV_CREDENTIALS_FILE).exists()


# --- file errors ------------------------------------------------------------------------------------------
def test_unknown_toml_key(tmp_path: Path) -> None:
    config = write_toml(tmp_path, 'port = 1\nsecret_key = "oops"\nprot = 2\n')
    with pytest.raises(ConfigError, match="prot, secret_key"):
        load_settings(config, env=ENV_PAIR)


@pytest.mark.parametrize("text", ["[server]\nport = 1\n", 'extra = "x"\n'])
def test_tables_and_internal_fields_are_unknown_keys(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="unknown"):
        load_settings(write_toml(tmp_path, text), env=ENV_PAIR)


def test_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(write_toml(tmp_path, "port = = 1\n"), env=ENV_PAIR)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "absent.toml", env=ENV_PAIR)


def test_bad_toml_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="port"):
        load_settings(write_toml(tmp_path, 'port = "http"\n'), env=ENV_PAIR)


def test_settings_are_frozen() -> None:
    settings = load_settings(env=ENV_PAIR)
    assert isinstance(settings, Settings)
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_without_create_nothing_is_written_and_a_stored_pair_is_read(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert load_settings(env={}, data_dir=data_dir, create_dev_credentials=False).credentials == ()
    assert not data_dir.exists()  # no data dir, no key pair: only `cosflow serve` makes them
    made = load_settings(env={}, data_dir=data_dir).credentials
    assert load_settings(env={}, data_dir=data_dir, create_dev_credentials=False).credentials == made


def test_a_relative_data_dir_in_toml_is_relative_to_the_file(tmp_path: Path) -> None:
    config = write_toml(tmp_path, 'data_dir = "store"\n')
    assert load_settings(config, env=ENV_PAIR).data_dir == tmp_path / "store"
    assert load_settings(config, env={**ENV_PAIR, "COSFLOW_DATA_DIR": "rel"}).data_dir == Path("rel")
    absolute = write_toml(tmp_path, f'data_dir = "{tmp_path / "abs"}"\n')
    assert load_settings(absolute, env=ENV_PAIR).data_dir == tmp_path / "abs"
