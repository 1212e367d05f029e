"""Unit: settings parsing, validation messages, secrets handling."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from satrank.config import (
    LOOPBACK_NETWORKS,
    ApiSettings,
    ConfigError,
    CrawlerSettings,
    DatabaseSettings,
    FreeRateSettings,
    LndSettings,
    NostrSettings,
    Settings,
    VantageNode,
    load_settings,
    parse_bool,
)
from satrank.dev_secrets import SECRETS_FILE

SECRET = "s" * 40
DB_URL = "postgresql://satrank:pw@db.example:5432/satrank"


def test_defaults_in_development() -> None:
    settings = Settings.from_environ({"L402_MACAROON_SECRET": SECRET})
    assert settings.env == "development"
    assert settings.api.port == 3000
    assert settings.crawler.metrics_port == 9091
    assert settings.crawler.metrics_host == "127.0.0.1"
    assert settings.database.url is None
    assert settings.l402.operator_bypass_secret is None
    assert settings.l402.challenge_credits == 21
    assert settings.nostr.relays == ()
    assert settings.api.trusted_proxies == ()


def test_each_slice_falls_back_on_its_dataclass_defaults() -> None:
    settings = Settings.from_environ({"L402_MACAROON_SECRET": SECRET})
    assert settings.database == DatabaseSettings(url=None)
    assert settings.lnd == LndSettings()
    assert settings.nostr == NostrSettings()
    assert settings.api == ApiSettings()
    assert settings.crawler == CrawlerSettings()
    assert (settings.data_dir, settings.log_level) == (Path(".satrank"), "INFO")


def test_each_slice_reads_its_own_variables() -> None:
    settings = Settings.from_environ({
        "L402_MACAROON_SECRET": SECRET, "HOST": "0.0.0.0", "PORT": "8080", "API_WORKERS": "4",
        "LOG_CLIENT_IPS": "true", "RATE_LIMIT_SEARCH_BURST": "3", "CRAWLER_METRICS_PORT": "0",
        "CRAWL_PROBE_INTERVAL_S": "5", "PROBE_TIERS_SAT": "100000,1000,1000",
        "DB_POOL_MAX": "4", "LND_RPC_TIMEOUT_S": "2.5", "L402_LEASE_MAX_CREDITS": "1"})
    assert settings.api == ApiSettings(host="0.0.0.0", port=8080, workers=4,
                                       log_client_ips=True,
                                       free_rate=FreeRateSettings(search_burst=3))
    assert (settings.crawler.metrics_port, settings.crawler.probe_interval_s) == (0, 5.0)
    assert settings.crawler.probe_tiers_sat == (1000, 100_000)
    assert settings.database.pool_max == 4 and settings.lnd.rpc_timeout_s == 2.5
    assert settings.l402.lease_max_credits == 1


def test_vantage_nodes_come_from_their_variable_groups() -> None:
    settings = Settings.from_environ({
        "L402_MACAROON_SECRET": SECRET,
        "LND_VANTAGE_WEST_2_HOST": "10.0.0.2:10009", "LND_VANTAGE_WEST_2_TLS_CERT": "/w/tls",
        "LND_VANTAGE_WEST_2_MACAROON": "/w/pay.macaroon",
        "LND_VANTAGE_EAST_HOST": "east:10009", "LND_VANTAGE_EAST_TLS_CERT": "/e/tls",
        "LND_VANTAGE_EAST_MACAROON": "/e/pay.macaroon"})
    assert settings.lnd.vantages == (
        VantageNode("east", "east:10009", Path("/e/tls"), Path("/e/pay.macaroon")),
        VantageNode("west_2", "10.0.0.2:10009", Path("/w/tls"), Path("/w/pay.macaroon")))
    with pytest.raises(ConfigError) as bad:
        Settings.from_environ({"L402_MACAROON_SECRET": SECRET,
                               "LND_VANTAGE_EAST_HOST": "east:10009",
                               "LND_VANTAGE_ORACLE_HOST": "x:1",
                               "LND_VANTAGE_ORACLE_TLS_CERT": "/t",
                               "LND_VANTAGE_ORACLE_MACAROON": "/m"})
    assert bad.value.problems == [
        "LND_VANTAGE_EAST_HOST, LND_VANTAGE_EAST_TLS_CERT and LND_VANTAGE_EAST_MACAROON "
        "must all be set",
        "LND_VANTAGE_ORACLE_*: the name oracle is the LND_* node itself"]


def test_probe_tiers_must_contain_the_default_tier() -> None:
    with pytest.raises(ConfigError, match="must contain the default tier 100000"):
        Settings.from_environ({"L402_MACAROON_SECRET": SECRET, "PROBE_TIERS_SAT": "1000,5000"})


def test_probe_sample_share_is_a_fraction_of_the_round() -> None:
    base = {"L402_MACAROON_SECRET": SECRET}
    assert Settings.from_environ(base).crawler.probe_sample_share == 0.2
    assert Settings.from_environ(
        {**base, "CRAWL_PROBE_SAMPLE_SHARE": "0.35"}).crawler.probe_sample_share == 0.35
    assert Settings.from_environ(
        {**base, "CRAWL_PROBE_SAMPLE_SHARE": "0"}).crawler.probe_sample_share == 0.0
    for bad in ("1.5", "-0.1", "a fifth"):
        with pytest.raises(ConfigError, match="CRAWL_PROBE_SAMPLE_SHARE must be"):
            Settings.from_environ({**base, "CRAWL_PROBE_SAMPLE_SHARE": bad})


def test_production_requires_a_database_url() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_environ({"SATRANK_ENV": "production", "L402_MACAROON_SECRET": SECRET})
    assert info.value.problems == [
        "DATABASE_URL is required when SATRANK_ENV=production (the embedded Postgres is "
        "for development, the demo and the tests)"]
    settings = Settings.from_environ({"SATRANK_ENV": "production",
                                      "L402_MACAROON_SECRET": SECRET, "DATABASE_URL": DB_URL})
    assert settings.database.url is not None and settings.database.url.reveal() == DB_URL


def test_production_database_url_problem_names_a_malformed_url_once() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_environ({"SATRANK_ENV": "production", "L402_MACAROON_SECRET": SECRET,
                               "DATABASE_URL": "mysql://x"})
    assert info.value.problems == ["DATABASE_URL must be a postgresql:// URL"]


def test_development_keeps_the_embedded_database(tmp_path: Path) -> None:
    assert load_settings({"SATRANK_DATA_DIR": str(tmp_path)}).database.url is None


def test_crawler_metrics_host_for_containers() -> None:
    settings = Settings.from_environ({"L402_MACAROON_SECRET": SECRET,
                                      "CRAWLER_METRICS_HOST": "0.0.0.0"})
    assert settings.crawler.metrics_host == "0.0.0.0"


def test_the_registry_never_pays_or_reaches_inside_unless_told() -> None:
    default = Settings.from_environ({"L402_MACAROON_SECRET": SECRET}).registry
    assert (default.spend_sat_per_day, default.allow_private) == (0, False)
    told = Settings.from_environ({"L402_MACAROON_SECRET": SECRET,
                                  "REGISTRY_SPEND_SAT_PER_DAY": "500",
                                  "REGISTRY_ALLOW_PRIVATE": "true",
                                  "REGISTRY_INTERVAL_S": "30"}).registry
    assert (told.spend_sat_per_day, told.allow_private, told.interval_s) == (500, True, 30.0)
    with pytest.raises(ConfigError) as refused:
        Settings.from_environ({"L402_MACAROON_SECRET": SECRET,
                               "REGISTRY_SPEND_SAT_PER_DAY": "-1",
                               "REGISTRY_ALLOW_PRIVATE": "sometimes"})
    assert "REGISTRY_SPEND_SAT_PER_DAY" in str(refused.value)
    assert "REGISTRY_ALLOW_PRIVATE" in str(refused.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("false", False), ("FALSE", False), ("0", False), ("no", False), ("off", False),
     ("", False), ("true", True), ("1", True), ("Yes", True), ("on", True)],
    ids=lambda v: repr(v),
)
def test_booleans(raw: str, expected: bool) -> None:
    assert parse_bool(raw) is expected
    settings = Settings.from_environ({"L402_MACAROON_SECRET": SECRET, "TRUST_PROXY": raw})
    assert settings.api.trusted_proxies == (LOOPBACK_NETWORKS if expected else ())


def test_trusted_proxies_are_addresses_and_cidrs() -> None:
    settings = Settings.from_environ({"L402_MACAROON_SECRET": SECRET,
                                      "TRUSTED_PROXIES": " 172.16.0.0/12, 10.1.2.3,fd00::/8 "})
    assert [str(n) for n in settings.api.trusted_proxies] == [
        "172.16.0.0/12", "10.1.2.3/32", "fd00::/8"]
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES: 'docker' is not an IP"):
        Settings.from_environ({"L402_MACAROON_SECRET": SECRET,
                               "TRUSTED_PROXIES": "127.0.0.1,docker"})


def test_bad_boolean_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="TRUST_PROXY must be a boolean"):
        Settings.from_environ({"L402_MACAROON_SECRET": SECRET, "TRUST_PROXY": "maybe"})


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_environ(
            {
                "SATRANK_ENV": "production",
                "PORT": "http",
                "CRAWLER_METRICS_PORT": "70000",
                "DATABASE_URL": "mysql://x",
                "NOSTR_RELAYS": "https://relay.example",
            }
        )
    text = str(info.value)
    assert "L402_MACAROON_SECRET is required" in text
    assert "PORT must be a whole number" in text
    assert "CRAWLER_METRICS_PORT must be between 0 and 65535" in text
    assert "DATABASE_URL must be a postgresql:// URL" in text
    assert "NOSTR_RELAYS" in text
    assert len(info.value.problems) >= 5


def test_production_requires_the_macaroon_secret() -> None:
    with pytest.raises(ConfigError, match="L402_MACAROON_SECRET is required"):
        Settings.from_environ({"SATRANK_ENV": "production"})
    settings = Settings.from_environ({"SATRANK_ENV": "production", "L402_MACAROON_SECRET": SECRET,
                                      "DATABASE_URL": DB_URL})
    assert settings.is_production


def test_short_secret_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_environ({"L402_MACAROON_SECRET": "tooshort-secret-value"})
    assert "at least 32 characters" in str(info.value)
    assert "tooshort-secret-value" not in str(info.value)


def test_secrets_never_show_in_repr() -> None:
    settings = Settings.from_environ(
        {
            "L402_MACAROON_SECRET": SECRET,
            "API_KEY": "k" * 32,
            "OPERATOR_BYPASS_SECRET": "o" * 32,
            "DATABASE_URL": "postgresql://user:hunter2hunter2@db/satrank",
        }
    )
    text = repr(settings) + str(settings)
    for value in (SECRET, "k" * 32, "o" * 32, "hunter2hunter2"):
        assert value not in text
    assert settings.l402.macaroon_secret.reveal() == SECRET


def test_development_generates_secrets_once_with_mode_0600(tmp_path: Path) -> None:
    env = {"SATRANK_DATA_DIR": str(tmp_path / "data")}
    first = load_settings(env)
    second = load_settings(env)
    assert len(first.l402.macaroon_secret.reveal()) >= 32
    assert first.l402.macaroon_secret == second.l402.macaroon_secret
    assert first.l402.api_key == second.l402.api_key
    mode = stat.S_IMODE((tmp_path / "data" / SECRETS_FILE).stat().st_mode)
    assert mode == 0o600


def test_environment_wins_over_generated_secrets(tmp_path: Path) -> None:
    env = {"SATRANK_DATA_DIR": str(tmp_path), "L402_MACAROON_SECRET": SECRET}
    assert load_settings(env).l402.macaroon_secret.reveal() == SECRET


def test_production_never_generates(tmp_path: Path) -> None:
    env = {"SATRANK_ENV": "production", "SATRANK_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigError):
        load_settings(env)
    assert not (tmp_path / SECRETS_FILE).exists()


def test_processes_starting_together_share_one_set_of_secrets(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    # Every process imports first, then waits for the same instant to race for real.
    code = ("import sys, time; from pathlib import Path; from satrank.dev_secrets import "
            "load_or_create_dev_secrets as f; time.sleep(max(0, float(sys.argv[2]) - "
            "time.time())); print(f(Path(sys.argv[1]))['L402_MACAROON_SECRET'])")
    start = str(time.time() + 3)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "d"), start],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(8)]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, results
    assert len({out.strip() for out, _ in results}) == 1
