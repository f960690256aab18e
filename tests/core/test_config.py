"""Settings come from the environment, and unsafe production settings stop the app starting."""

import pytest

from core.config import DEFAULT_SECRET_KEY, Config, ConfigError, normalise_database_url
from web.app import create_app

GOOD_KEY = "k" * 48


@pytest.mark.parametrize("key", ["", DEFAULT_SECRET_KEY, "short-key"])
def test_production_refuses_a_missing_default_or_short_secret_key(key, tmp_path):
    config = Config.from_env(
        {"KITSHARE_ENV": "production", "SECRET_KEY": key, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    )
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(config)


def test_production_is_the_default_mode_so_a_deployment_cannot_forget_it():
    assert Config.from_env({}).KITSHARE_ENV == "production"
    with pytest.raises(ConfigError):
        create_app(Config.from_env({}))


def test_production_starts_with_a_real_key_and_secure_cookies(tmp_path):
    app = create_app(
        Config.from_env(
            {
                "KITSHARE_ENV": "production",
                "SECRET_KEY": GOOD_KEY,
                "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            }
        )
    )
    assert app.config["SECRET_KEY"] == GOOD_KEY
    for prefix in ("SESSION", "REMEMBER"):
        assert app.config[f"{prefix}_COOKIE_SECURE"] is True
        assert app.config[f"{prefix}_COOKIE_HTTPONLY"] is True
        assert app.config[f"{prefix}_COOKIE_SAMESITE"] == "Lax"


def test_development_runs_with_the_placeholder_key_over_plain_http(tmp_path):
    app = create_app(
        Config.from_env({"KITSHARE_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    )
    assert app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_environment_variables_are_read_and_typed():
    config = Config.from_env(
        {
            "KITSHARE_TIMEZONE": "Europe/Dublin",
            "MAIL_PORT": "587",
            "MAIL_USE_TLS": "true",
            "DATABASE_URL": "postgres://u@h/db",
        }
    )
    config = Config(**{**config.__dict__, "KITSHARE_ENV": "development"})
    settings = config.flask_settings()
    assert config.KITSHARE_TIMEZONE == "Europe/Dublin"
    assert config.MAIL_PORT == 587
    assert config.MAIL_USE_TLS is True
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_the_default_database_is_a_sqlite_file_under_instance():
    settings = Config(KITSHARE_ENV="development").flask_settings()
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert settings["SQLALCHEMY_DATABASE_URI"].endswith("/instance/kitshare.db")


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        Config(KITSHARE_ENV="development", KITSHARE_TIMEZONE="Mars/Olympus").flask_settings()


def test_an_unknown_environment_name_is_refused():
    with pytest.raises(ConfigError, match="KITSHARE_ENV"):
        Config(KITSHARE_ENV="staging").flask_settings()


@pytest.mark.parametrize(
    "given, expected",
    [
        ("postgres://a@b/c", "postgresql+psycopg://a@b/c"),
        ("postgresql://a@b/c", "postgresql+psycopg://a@b/c"),
        ("postgresql+psycopg://a@b/c", "postgresql+psycopg://a@b/c"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_are_normalised_to_psycopg_3(given, expected):
    assert normalise_database_url(given) == expected


def test_single_sign_on_without_trusted_proxies_is_refused():
    with pytest.raises(ConfigError, match="KITSHARE_SSO_TRUSTED_PROXIES"):
        Config(KITSHARE_ENV="development", KITSHARE_SSO_HEADER="REMOTE_USER").flask_settings()
    with pytest.raises(ConfigError, match="KITSHARE_SSO_TRUSTED_PROXIES"):
        Config(
            KITSHARE_ENV="development",
            KITSHARE_SSO_HEADER="REMOTE_USER",
            KITSHARE_SSO_TRUSTED_PROXIES="not-an-ip",
        ).flask_settings()
