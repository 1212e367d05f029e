"""All settings, read once from the environment into one frozen object.

`Settings.from_environ(environ)` is pure: the environ mapping is a parameter so tests pass a
dict. Every problem found is collected and raised together as one `ConfigError` whose lines
name the variable and say what is expected; values of secrets never appear in messages or
reprs. `load_settings()` adds the one side effect: in development, secrets that are missing
are generated once and kept in the data directory (see `dev_secrets`).

One slice per component (`database`, `lnd`, `l402`, `nostr`, `api`, `crawler`), each a
frozen dataclass whose field defaults are the only definition of its defaults, with its
reader function right below it; a component takes only its slice. Production refuses to
start without its secrets or without DATABASE_URL (the embedded Postgres is for
development, the demo and the tests).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from satrank.scoring.tiers import DEFAULT_TIER_SAT, DEFAULT_TIERS_SAT

Environment = Literal["production", "development"]
ENVIRONMENTS: tuple[Environment, ...] = ("production", "development")

LOOPBACK = "127.0.0.1"  # default listen address of the api and of the crawler's metrics
ProxyNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK_NETWORKS: tuple[ProxyNetwork, ...] = (ipaddress.ip_network("127.0.0.0/8"),
                                               ipaddress.ip_network("::1/128"))
MIN_MACAROON_SECRET_LEN = 32
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_NIP05_NAME = re.compile(r"^[a-z0-9._-]+$")
_NOSTR_KEY = re.compile(r"^([0-9a-fA-F]{64}|nsec1[02-9ac-hj-np-z]{58})$")
_POSTGRES_URL = re.compile(r"^postgres(ql)?://")


class ConfigError(Exception):
    """The environment does not describe a valid configuration; one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Secret:
    """A secret string that never shows itself in a repr, str or log line."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def reveal(self) -> str:
        return self.value


# Each slice below is a frozen dataclass whose field defaults are the one definition of
# its defaults, followed by the reader that fills it from the environment (`d.<field>` is
# the default it falls back on).


@dataclass(frozen=True)
class DatabaseSettings:
    url: Secret | None  # None: embedded Postgres under the data directory (development only)
    pool_min: int = 2
    pool_max: int = 10
    command_timeout_s: float = 10.0


def _database(r: _Reader, *, production: bool) -> DatabaseSettings:
    d = DatabaseSettings
    url = r.secret("DATABASE_URL", pattern=_POSTGRES_URL, expected="a postgresql:// URL")
    if production and not r.has("DATABASE_URL"):
        r.problem("DATABASE_URL is required when SATRANK_ENV=production (the embedded "
                  "Postgres is for development, the demo and the tests)")
    settings = DatabaseSettings(
        url=url,
        pool_min=r.integer("DB_POOL_MIN", d.pool_min, 1, 100),
        pool_max=r.integer("DB_POOL_MAX", d.pool_max, 1, 500),
        command_timeout_s=r.number("DB_COMMAND_TIMEOUT_S", d.command_timeout_s, 0.1, 600),
    )
    if settings.pool_min > settings.pool_max:
        r.problem("DB_POOL_MIN must not exceed DB_POOL_MAX")
    return settings


ORACLE_VANTAGE = "oracle"  # the vantage point of the LND_* node itself
_VANTAGE_PREFIX = "LND_VANTAGE_"  # LND_VANTAGE_<NAME>_HOST / _TLS_CERT / _MACAROON
_VANTAGE_VAR = re.compile(r"^LND_VANTAGE_([A-Z0-9]+(?:_[A-Z0-9]+)*?)_(HOST|TLS_CERT|MACAROON)$")


@dataclass(frozen=True)
class VantageNode:
    """Another LND the crawler probes from (LND_VANTAGE_<NAME>_HOST / _TLS_CERT /
    _MACAROON, the macaroon being that node's pay macaroon)."""

    name: str  # <NAME> in lower case
    grpc_host: str
    tls_cert_path: Path
    pay_macaroon_path: Path


@dataclass(frozen=True)
class LndSettings:
    grpc_host: str = "localhost:10009"
    tls_cert_path: Path | None = None
    invoice_macaroon_path: Path | None = None
    readonly_macaroon_path: Path | None = None
    pay_macaroon_path: Path | None = None
    rpc_timeout_s: float = 10.0
    vantages: tuple[VantageNode, ...] = ()  # besides the oracle (this node), by name


def _lnd(r: _Reader) -> LndSettings:
    d = LndSettings
    return LndSettings(
        grpc_host=r.text("LND_GRPC_HOST", d.grpc_host),
        tls_cert_path=r.path("LND_TLS_CERT_PATH"),
        invoice_macaroon_path=r.path("LND_INVOICE_MACAROON_PATH"),
        readonly_macaroon_path=r.path("LND_READONLY_MACAROON_PATH"),
        pay_macaroon_path=r.path("LND_PAY_MACAROON_PATH"),
        rpc_timeout_s=r.number("LND_RPC_TIMEOUT_S", d.rpc_timeout_s, 0.1, 600),
        vantages=_vantages(r),
    )


def _vantages(r: _Reader) -> tuple[VantageNode, ...]:
    """Every LND_VANTAGE_<NAME>_* group, complete or reported; sorted by name."""
    names = sorted({m.group(1) for m in map(_VANTAGE_VAR.match, r.names(_VANTAGE_PREFIX))
                    if m is not None})
    nodes = []
    for name in names:
        prefix = f"{_VANTAGE_PREFIX}{name}_"
        host, cert, macaroon = (r.text(prefix + "HOST", ""), r.path(prefix + "TLS_CERT"),
                                r.path(prefix + "MACAROON"))
        if name.lower() == ORACLE_VANTAGE:
            r.problem(f"{prefix}*: the name {ORACLE_VANTAGE} is the LND_* node itself")
        elif not host or cert is None or macaroon is None:
            r.problem(f"{prefix}HOST, {prefix}TLS_CERT and {prefix}MACAROON must all be set")
        else:
            nodes.append(VantageNode(name.lower(), host, cert, macaroon))
    return tuple(nodes)


@dataclass(frozen=True)
class L402Settings:
    macaroon_secret: Secret
    previous_macaroon_secret: Secret | None = None
    operator_bypass_secret: Secret | None = None  # None: bypass disabled
    api_key: Secret | None = None  # None: admin routes closed, /metrics loopback only
    challenge_credits: int = 21
    challenge_price_sat: int = 1
    invoice_expiry_s: int = 600
    token_lifetime_s: int = 30 * 24 * 3600
    # each challenge mints an LND invoice: limited per client (api/clients.client_key),
    # and in total per api process so rotating addresses cannot flood LND; paid use per token
    challenge_rate_per_min: float = 30.0
    challenge_burst: int = 10
    mint_global_per_s: float = 20.0
    mint_global_burst: int = 100
    token_rate_per_s: float = 20.0
    token_burst: int = 40
    # credits an api process may reserve of one token (api/ledger.py); 1: no leasing
    lease_max_credits: int = 1000


def _l402(r: _Reader, *, production: bool) -> L402Settings:
    d = L402Settings
    secret = r.secret("L402_MACAROON_SECRET", min_len=MIN_MACAROON_SECRET_LEN)
    if secret is None:
        r.problem(
            "L402_MACAROON_SECRET is required: a random string of at least "
            f"{MIN_MACAROON_SECRET_LEN} characters (`satrank keygen` prints one)"
            if production
            else "L402_MACAROON_SECRET is missing (development secrets were not loaded)"
        )
    return L402Settings(
        macaroon_secret=secret or Secret(""),
        previous_macaroon_secret=r.secret("L402_PREVIOUS_MACAROON_SECRET",
                                          min_len=MIN_MACAROON_SECRET_LEN),
        operator_bypass_secret=r.secret("OPERATOR_BYPASS_SECRET", min_len=16),
        api_key=r.secret("API_KEY", min_len=16),
        challenge_credits=r.integer("L402_CHALLENGE_CREDITS", d.challenge_credits,
                                    1, 1_000_000),
        challenge_price_sat=r.integer("L402_CHALLENGE_PRICE_SAT", d.challenge_price_sat,
                                      1, 10_000_000),
        invoice_expiry_s=r.integer("L402_INVOICE_EXPIRY_S", d.invoice_expiry_s, 60, 86_400),
        token_lifetime_s=r.integer("L402_TOKEN_LIFETIME_S", d.token_lifetime_s,
                                   60, 366 * 86_400),
        challenge_rate_per_min=r.number("L402_CHALLENGE_RATE_PER_MIN",
                                        d.challenge_rate_per_min, 0.1, 1e6),
        challenge_burst=r.integer("L402_CHALLENGE_BURST", d.challenge_burst, 1, 10**6),
        mint_global_per_s=r.number("L402_MINT_GLOBAL_PER_S", d.mint_global_per_s, 0.01, 1e6),
        mint_global_burst=r.integer("L402_MINT_GLOBAL_BURST", d.mint_global_burst, 1, 10**6),
        token_rate_per_s=r.number("L402_TOKEN_RATE_PER_S", d.token_rate_per_s, 0.01, 1e6),
        token_burst=r.integer("L402_TOKEN_BURST", d.token_burst, 1, 10**6),
        lease_max_credits=r.integer("L402_LEASE_MAX_CREDITS", d.lease_max_credits, 1, 10_000),
    )


@dataclass(frozen=True)
class NostrSettings:
    private_key: Secret | None = None  # hex or nsec
    relays: tuple[str, ...] = ()
    profile_name: str = "SatRank"
    profile_about: str = (
        "Lightning trust oracle: signed NIP-85 assertions (kind 30382, d = Lightning node "
        "key) with a calibrated payment success probability, its 95% interval, a verdict "
        "and a rank."
    )
    profile_website: str = "https://satrank.dev"
    nip05_name: str = "satrank"  # local part served by /.well-known/nostr.json
    publish_interval_s: float = 0.2  # pause between events, per relay
    publish_batch: int = 200
    ok_timeout_s: float = 10.0
    connect_timeout_s: float = 10.0
    retry_base_s: float = 5.0
    retry_max_s: float = 3600.0
    poll_interval_s: float = 5.0

    @property
    def publishing(self) -> bool:
        """Events are signed and sent only with a key and at least one relay."""
        return self.private_key is not None and bool(self.relays)


def _nostr(r: _Reader, *, production: bool) -> NostrSettings:
    d = NostrSettings
    key = r.secret("NOSTR_PRIVATE_KEY", pattern=_NOSTR_KEY, expected="64 hex or nsec1…")
    relays = r.csv("NOSTR_RELAYS")
    if any(not relay.startswith(("ws://", "wss://")) for relay in relays):
        r.problem("NOSTR_RELAYS: each relay must be a ws:// or wss:// URL")
    if production and relays and key is None:
        r.problem("NOSTR_PRIVATE_KEY is required when NOSTR_RELAYS is set")
    nip05_name = r.text("NOSTR_NIP05_NAME", d.nip05_name).lower()
    if not _NIP05_NAME.match(nip05_name):
        r.problem("NOSTR_NIP05_NAME may only contain a-z, 0-9, '.', '_' and '-'")
    return NostrSettings(
        private_key=key,
        relays=relays,
        profile_name=r.text("NOSTR_PROFILE_NAME", d.profile_name),
        profile_about=r.text("NOSTR_PROFILE_ABOUT", d.profile_about),
        profile_website=r.text("NOSTR_PROFILE_WEBSITE", d.profile_website),
        nip05_name=nip05_name,
        publish_interval_s=r.number("NOSTR_PUBLISH_INTERVAL_S", d.publish_interval_s, 0, 60),
        publish_batch=r.integer("NOSTR_PUBLISH_BATCH", d.publish_batch, 1, 10_000),
        ok_timeout_s=r.number("NOSTR_OK_TIMEOUT_S", d.ok_timeout_s, 0.1, 600),
        connect_timeout_s=r.number("NOSTR_CONNECT_TIMEOUT_S", d.connect_timeout_s, 0.1, 600),
        retry_base_s=r.number("NOSTR_RETRY_BASE_S", d.retry_base_s, 0, 86_400),
        retry_max_s=r.number("NOSTR_RETRY_MAX_S", d.retry_max_s, 0, 86_400),
        poll_interval_s=r.number("NOSTR_POLL_INTERVAL_S", d.poll_interval_s, 0.01, 3600),
    )


@dataclass(frozen=True)
class FreeRateSettings:
    """Per client IP (per api worker) token buckets of the free, rate-limited routes.

    Two separate buckets so a client searching cannot starve its own agent reads:
    `agent` covers GET /api/agent/{id} and /api/agent/{id}/verdict (served from a cache),
    `search` covers GET /api/agents/search (a database query per call)."""

    agent_per_min: float = 600.0
    agent_burst: int = 60
    search_per_min: float = 60.0
    search_burst: int = 10


def _free_rate(r: _Reader) -> FreeRateSettings:
    d = FreeRateSettings
    return FreeRateSettings(
        agent_per_min=r.number("RATE_LIMIT_AGENT_PER_MIN", d.agent_per_min, 0.1, 1e9),
        agent_burst=r.integer("RATE_LIMIT_AGENT_BURST", d.agent_burst, 1, 10**9),
        search_per_min=r.number("RATE_LIMIT_SEARCH_PER_MIN", d.search_per_min, 0.1, 1e9),
        search_burst=r.integer("RATE_LIMIT_SEARCH_BURST", d.search_burst, 1, 10**9),
    )


@dataclass(frozen=True)
class ApiSettings:
    """What `satrank serve` and the api components need beyond the other slices."""

    host: str = LOOPBACK
    port: int = 3000
    workers: int = 1  # uvicorn worker processes of `satrank serve`
    # peers whose X-Forwarded-For names the client (api/clients.py); empty: trust no one
    trusted_proxies: tuple[ProxyNetwork, ...] = ()
    log_client_ips: bool = False
    free_rate: FreeRateSettings = field(default_factory=FreeRateSettings)


def _api(r: _Reader) -> ApiSettings:
    d = ApiSettings
    return ApiSettings(
        host=r.text("HOST", d.host),
        port=r.integer("PORT", d.port, 0, 65535),
        workers=r.integer("API_WORKERS", d.workers, 1, 64),
        trusted_proxies=_trusted_proxies(r),
        log_client_ips=r.boolean("LOG_CLIENT_IPS", d.log_client_ips),
        free_rate=_free_rate(r),
    )


def _trusted_proxies(r: _Reader) -> tuple[ProxyNetwork, ...]:
    """TRUSTED_PROXIES: comma-separated addresses or CIDRs of our reverse proxies (nginx
    on this host: 127.0.0.1,::1; behind docker compose the bridge network, e.g.
    172.16.0.0/12). TRUST_PROXY=true, the older switch, still means "loopback"."""
    networks: list[ProxyNetwork] = []
    for item in r.text("TRUSTED_PROXIES", "").split(","):
        if not item.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            r.problem(f"TRUSTED_PROXIES: {item.strip()!r} is not an IP address or CIDR")
    if r.boolean("TRUST_PROXY", False):
        networks.extend(LOOPBACK_NETWORKS)
    return tuple(dict.fromkeys(networks))


@dataclass(frozen=True)
class CrawlerSettings:
    """Crawler cadence, probe budget and metrics endpoint (CRAWL_* / PROBE_* variables)."""

    graph_interval_s: float = 600.0  # DescribeGraph sync + full rescore
    probe_interval_s: float = 60.0  # one probe round, then rescore
    probes_per_round: int = 100
    probe_concurrency: int = 8
    probe_cooldown_s: float = 3600.0  # a node is not probed again within this
    probe_stale_s: float = 86_400.0  # older than this: "stale", probed before random ones
    # share of each round on nodes drawn uniformly at random: the unbiased slice the
    # population fits read (crawler/scheduler.py)
    probe_sample_share: float = 0.2
    node_daily_probe_cap: int = 12
    daily_probe_cap: int = 50_000
    probe_fee_limit_sat: int = 10  # the tight fee budget; the normal one is 0.5 % + 5 sat
    probe_timeout_s: float = 30.0
    # a queue row claimed longer ago than this is taken again (its worker died)
    probe_claim_ttl_s: float = 900.0
    probe_tiers_sat: tuple[int, ...] = DEFAULT_TIERS_SAT
    probe_retention_days: int = 30
    half_life_days: float = 7.0
    # a pass over the same inputs as the stored one is skipped until that one is this old
    # (crawler/rescore.py says why an hour); 0 rescores every time
    rescore_max_age_s: float = 3600.0
    lnd_backoff_max_s: float = 300.0
    metrics_port: int = 9091
    # loopback by default; 0.0.0.0 in a container whose port is published on host loopback
    metrics_host: str = LOOPBACK


def _crawler(r: _Reader) -> CrawlerSettings:
    d = CrawlerSettings
    return CrawlerSettings(
        graph_interval_s=r.number("CRAWL_GRAPH_INTERVAL_S", d.graph_interval_s, 10, 86_400),
        probe_interval_s=r.number("CRAWL_PROBE_INTERVAL_S", d.probe_interval_s, 1, 86_400),
        probes_per_round=r.integer("CRAWL_PROBES_PER_ROUND", d.probes_per_round, 0, 100_000),
        probe_concurrency=r.integer("CRAWL_PROBE_CONCURRENCY", d.probe_concurrency, 1, 512),
        probe_cooldown_s=r.number("CRAWL_PROBE_COOLDOWN_S", d.probe_cooldown_s, 0, 30 * 86_400),
        probe_stale_s=r.number("CRAWL_PROBE_STALE_S", d.probe_stale_s, 60, 90 * 86_400),
        probe_sample_share=r.number("CRAWL_PROBE_SAMPLE_SHARE", d.probe_sample_share, 0, 1),
        node_daily_probe_cap=r.integer("CRAWL_NODE_DAILY_PROBE_CAP",
                                       d.node_daily_probe_cap, 1, 10_000),
        daily_probe_cap=r.integer("CRAWL_DAILY_PROBE_CAP", d.daily_probe_cap, 0, 10_000_000),
        probe_fee_limit_sat=r.integer("PROBE_FEE_LIMIT_SAT", d.probe_fee_limit_sat, 0, 100_000),
        probe_timeout_s=r.number("PROBE_TIMEOUT_S", d.probe_timeout_s, 1, 600),
        probe_claim_ttl_s=r.number("CRAWL_PROBE_CLAIM_TTL_S", d.probe_claim_ttl_s, 1, 86_400),
        probe_tiers_sat=_probe_tiers(r) or d.probe_tiers_sat,
        probe_retention_days=r.integer("PROBE_RETENTION_DAYS", d.probe_retention_days, 1, 3650),
        half_life_days=r.number("SCORE_HALF_LIFE_DAYS", d.half_life_days, 0.01, 365),
        rescore_max_age_s=r.number("CRAWL_RESCORE_MAX_AGE_S", d.rescore_max_age_s, 0, 3600),
        lnd_backoff_max_s=r.number("CRAWL_LND_BACKOFF_MAX_S", d.lnd_backoff_max_s, 1, 3600),
        metrics_port=r.integer("CRAWLER_METRICS_PORT", d.metrics_port, 0, 65535),
        metrics_host=r.text("CRAWLER_METRICS_HOST", d.metrics_host),
    )


def _probe_tiers(r: _Reader) -> tuple[int, ...]:
    """PROBE_TIERS_SAT sorted and deduplicated; () when unset or invalid."""
    tiers: list[int] = []
    for part in r.csv("PROBE_TIERS_SAT"):
        if not part.isdigit() or not 0 < int(part) <= 10_000_000:
            r.problem("PROBE_TIERS_SAT must be comma-separated amounts in sat (1..10000000)")
            break
        tiers.append(int(part))
    if tiers and DEFAULT_TIER_SAT not in tiers:
        r.problem(f"PROBE_TIERS_SAT must contain the default tier {DEFAULT_TIER_SAT}")
    return tuple(sorted(set(tiers)))


@dataclass(frozen=True)
class RegistrySettings:
    """The L402 service registry's crawl (REGISTRY_* variables; satrank/registry/)."""

    interval_s: float = 600.0  # one registry round: every due endpoint, stage by stage
    recheck_s: float = 3600.0  # an endpoint is checked again this long after its last check
    endpoints_per_round: int = 200
    concurrency: int = 8
    host_gap_s: float = 2.0  # politeness: at least this long between two requests to a host
    # Paying registered services is off unless given a budget: sat per UTC day, every
    # crawler process together (db/registry.py enforces it in one statement).
    spend_sat_per_day: int = 0
    max_payment_sat: int = 100  # never pay a single invoice above this
    fetch_deadline_s: float = 10.0  # one whole HTTP exchange, redirects included
    # Loopback/private addresses and plain http: for tests and private deployments only.
    allow_private: bool = False


def _registry(r: _Reader) -> RegistrySettings:
    d = RegistrySettings
    return RegistrySettings(
        interval_s=r.number("REGISTRY_INTERVAL_S", d.interval_s, 1, 86_400),
        recheck_s=r.number("REGISTRY_RECHECK_S", d.recheck_s, 0, 30 * 86_400),
        endpoints_per_round=r.integer("REGISTRY_ENDPOINTS_PER_ROUND", d.endpoints_per_round,
                                      1, 100_000),
        concurrency=r.integer("REGISTRY_CONCURRENCY", d.concurrency, 1, 256),
        host_gap_s=r.number("REGISTRY_HOST_GAP_S", d.host_gap_s, 0, 3600),
        spend_sat_per_day=r.integer("REGISTRY_SPEND_SAT_PER_DAY", d.spend_sat_per_day,
                                    0, 10_000_000),
        max_payment_sat=r.integer("REGISTRY_MAX_PAYMENT_SAT", d.max_payment_sat, 1, 1_000_000),
        fetch_deadline_s=r.number("REGISTRY_FETCH_DEADLINE_S", d.fetch_deadline_s, 0.1, 120),
        allow_private=r.boolean("REGISTRY_ALLOW_PRIVATE", d.allow_private),
    )


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings
    lnd: LndSettings
    l402: L402Settings
    nostr: NostrSettings
    env: Environment = "development"
    api: ApiSettings = field(default_factory=ApiSettings)
    crawler: CrawlerSettings = field(default_factory=CrawlerSettings)
    registry: RegistrySettings = field(default_factory=RegistrySettings)
    data_dir: Path = Path(".satrank")
    log_level: str = "INFO"

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Parse and validate; raise `ConfigError` listing every problem at once."""
        r = _Reader(environ)
        production = r.choice("SATRANK_ENV", ENVIRONMENTS, cls.env) == "production"
        env: Environment = "production" if production else "development"
        settings = cls(
            env=env,
            data_dir=Path(r.text("SATRANK_DATA_DIR", str(cls.data_dir))),
            log_level=r.choice("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"),
                               cls.log_level, upper=True),
            database=_database(r, production=production),
            lnd=_lnd(r),
            l402=_l402(r, production=production),
            nostr=_nostr(r, production=production),
            api=_api(r),
            crawler=_crawler(r),
            registry=_registry(r),
        )
        r.raise_if_problems()
        return settings


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings for a command: in development, missing secrets come from the data directory."""
    from satrank.dev_secrets import load_or_create_dev_secrets

    env = dict(os.environ if environ is None else environ)
    if (env.get("SATRANK_ENV") or "").strip().lower() != "production":
        data_dir = Path(env.get("SATRANK_DATA_DIR") or Settings.data_dir)
        for name, value in load_or_create_dev_secrets(data_dir).items():
            if not env.get(name):
                env[name] = value
    return Settings.from_environ(env)


class _Reader:
    """Reads one variable at a time with a cast and a default, collecting problems."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self._problems: list[str] = []

    def problem(self, message: str) -> None:
        self._problems.append(message)

    def raise_if_problems(self) -> None:
        if self._problems:
            raise ConfigError(self._problems)

    def _raw(self, name: str) -> str | None:
        value = self._environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def has(self, name: str) -> bool:
        return self._raw(name) is not None

    def names(self, prefix: str) -> list[str]:
        """The variables set (non-empty) whose name starts with `prefix`."""
        return [name for name in self._environ
                if name.startswith(prefix) and self._raw(name) is not None]

    def text(self, name: str, default: str) -> str:
        return self._raw(name) or default

    def choice(
        self, name: str, allowed: tuple[str, ...], default: str, *, upper: bool = False
    ) -> str:
        raw = self._raw(name)
        if raw is None:
            return default
        value = raw.upper() if upper else raw.lower()
        if value not in allowed:
            self.problem(f"{name} must be one of {', '.join(allowed)}")
            return default
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problem(f"{name} must be a whole number between {low} and {high}")
            return default
        if not low <= value <= high:
            self.problem(f"{name} must be between {low} and {high}")
            return default
        return value

    def number(self, name: str, default: float, low: float, high: float) -> float:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            self.problem(f"{name} must be a number between {low} and {high}")
            return default
        if not low <= value <= high:
            self.problem(f"{name} must be between {low} and {high}")
            return default
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self._environ.get(name)
        if raw is None:
            return default
        try:
            return parse_bool(raw)
        except ValueError:
            self.problem(f"{name} must be a boolean (true/false, 1/0, yes/no, on/off)")
            return default

    def path(self, name: str) -> Path | None:
        raw = self._raw(name)
        return Path(raw).expanduser() if raw is not None else None

    def csv(self, name: str) -> tuple[str, ...]:
        raw = self._raw(name)
        if raw is None:
            return ()
        return tuple(part.strip() for part in raw.split(",") if part.strip())

    def secret(
        self,
        name: str,
        *,
        min_len: int = 1,
        pattern: re.Pattern[str] | None = None,
        expected: str = "",
    ) -> Secret | None:
        raw = self._raw(name)
        if raw is None:
            return None
        if len(raw) < min_len:
            self.problem(f"{name} must be at least {min_len} characters long")
            return None
        if pattern is not None and not pattern.match(raw):
            self.problem(f"{name} must be {expected or 'well formed'}")
            return None
        return Secret(raw)


def parse_bool(raw: str) -> bool:
    """The one boolean reading used everywhere: "false", "0", "no", "off", "" are false."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("not a boolean: expected true/false, 1/0, yes/no, on/off")
