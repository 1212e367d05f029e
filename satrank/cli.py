"""`satrank` command line: one subcommand per job, each a small function."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from satrank import __version__
from satrank.config import ConfigError, Settings, load_settings
from satrank.db.embedded import database_dsn, stop_embedded_postgres
from satrank.db.migrations import MigrationError, migrate_dsn
from satrank.logs import batch_writes_per_tick, configure_logging, install_redaction
from satrank.simnet import options as simnet_options

if TYPE_CHECKING:
    from satrank.backup_crypto import Encryption

_log = logging.getLogger("satrank")

Command = Callable[[argparse.Namespace, Settings], int]


def _dsn_of(settings: Settings, *, stop_when_done: bool = True) -> AbstractContextManager[str]:
    url = settings.database.url.reveal() if settings.database.url else None
    return database_dsn(url, settings.data_dir, stop_when_done=stop_when_done)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    with _dsn_of(settings) as dsn:
        report = asyncio.run(migrate_dsn(dsn))
    if report.applied:
        applied = ", ".join(f"{v:03d}" for v in report.applied)
        print(f"applied migrations {applied}; schema version {report.current_version}")
    else:
        print(f"nothing to apply; schema version {report.current_version}")
    return 0


def cmd_db_url(args: argparse.Namespace, settings: Settings) -> int:
    with _dsn_of(settings, stop_when_done=False) as dsn:
        print(dsn)
    if settings.database.url is None:
        print("embedded postgres left running; `satrank db-stop` stops it", file=sys.stderr)
    return 0


def cmd_db_stop(args: argparse.Namespace, settings: Settings) -> int:
    if settings.database.url is not None:
        print("DATABASE_URL is set: SatRank does not manage that server", file=sys.stderr)
        return 1
    stopped = stop_embedded_postgres(settings.data_dir)
    print("embedded postgres stopped" if stopped else "embedded postgres was not running")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import os

    import uvicorn

    from satrank.api.app import SERVE_DSN_ENV, create_app
    from satrank.api.http_writes import CoalescingHttpProtocol

    with _dsn_of(settings) as dsn:
        report = asyncio.run(migrate_dsn(dsn))
        _log.info("schema version %s", report.current_version)
        exit_on_sigterm()
        batch_writes_per_tick()  # one write per event-loop iteration for the access lines
        # One worker: the app object, in this process. Several: uvicorn's supervisor (this
        # process, which keeps the embedded Postgres until every worker has stopped) spawns
        # workers that build their own app from the environment and this DSN.
        if settings.api.workers > 1:
            os.environ[SERVE_DSN_ENV] = dsn
        uvicorn.run(
            "satrank.api.app:app_from_environ" if settings.api.workers > 1
            else create_app(settings, dsn, freeze_gc=True),
            factory=settings.api.workers > 1,
            workers=settings.api.workers,
            host=settings.api.host,
            port=settings.api.port,
            loop="uvloop",
            http=CoalescingHttpProtocol,  # httptools, one socket write per answer
            access_log=False,  # uvicorn's access log carries client IPs
            proxy_headers=False,
            log_config=None,
            timeout_graceful_shutdown=10,
        )
    return 0


def cmd_keygen(args: argparse.Namespace, settings: Settings | None = None) -> int:
    from satrank.keygen import format_operator_secrets, operator_secrets

    print(format_operator_secrets(operator_secrets()), end="")
    return 0


def cmd_nostr_info(args: argparse.Namespace, settings: Settings) -> int:
    from satrank.nostr.identity import describe_identity

    print(describe_identity(settings.nostr), end="")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from satrank.backup import BackupError
    from satrank.backup_crypto import BackupCryptoError
    from satrank.backup_files import BackupFileError
    from satrank.lightning.errors import LightningError

    run = _backup_channels if args.what == "channels" else _backup_database
    try:
        return run(args, settings)
    except (BackupError, BackupCryptoError, BackupFileError, LightningError, OSError) as exc:
        print(f"satrank backup {args.what}: {exc}", file=sys.stderr)
        return 1


def _encryption_of(args: argparse.Namespace) -> Encryption | None:
    from satrank.backup_crypto import Encryption, read_key_lines, read_passphrase

    recipients = tuple(args.encrypt_to) + (
        read_key_lines(args.recipients_file) if args.recipients_file else ())
    if not recipients and args.passphrase_file is None:
        return None
    return Encryption(recipients, read_passphrase(args.passphrase_file)
                      if args.passphrase_file else None)


def _backup_database(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from satrank.backup import BACKUP_PREFIX, create_backup, secret_inventory
    from satrank.backup_files import prune, record_success, ship_offsite

    if (args.out is None) == (args.dir is None):
        print("satrank backup: give exactly one of --out FILE or --dir DIR", file=sys.stderr)
        return 2
    encryption = _encryption_of(args)
    now = datetime.now(UTC)
    secrets = secret_inventory(settings) if args.include_secrets else None
    with _dsn_of(settings) as dsn:
        out, manifest = create_backup(dsn, args.out or args.dir, now=now, secrets=secrets,
                                      encryption=encryption, versioned=args.dir is not None)
    if args.dir is not None and args.retention_days is not None:
        prune(args.dir, BACKUP_PREFIX, args.retention_days, now)
    if args.offsite_command:
        ship_offsite(args.offsite_command, out)
    if args.metrics_file is not None:
        record_success(args.metrics_file, "database", now, out.stat().st_size)
    rows = sum(manifest["tables"].values())
    print(f"backup written to {out}: schema version {manifest['schemaVersion']}, "
          f"{len(manifest['tables'])} tables, {rows} rows"
          + (", encrypted (age)" if encryption else "")
          + (", WITH SECRETS (keep it like a private key)" if secrets is not None else ""))
    return 0


def _backup_channels(args: argparse.Namespace, settings: Settings) -> int:
    from satrank.backup_channels import (
        DEFAULT_RETENTION_DAYS,
        ChannelBackupStore,
        export_channel_backup,
        keep_channel_backups,
    )
    from satrank.lightning.errors import LightningError
    from satrank.lightning.lnd import LndClient, open_lnd

    if args.dir is None or args.out is not None or _encryption_of(args) is not None:
        print("satrank backup channels: give --dir DIR (lnd encrypts channel backups itself; "
              "--out and --encrypt-to are for database backups)", file=sys.stderr)
        return 2
    store = ChannelBackupStore(
        args.dir, retention_days=args.retention_days or DEFAULT_RETENTION_DAYS,
        offsite_command=args.offsite_command, metrics_file=args.metrics_file)
    if args.macaroon is not None:
        if settings.lnd.tls_cert_path is None:
            raise LightningError("LND_TLS_CERT_PATH is not set")
        lnd = LndClient.connect(settings.lnd.grpc_host, settings.lnd.tls_cert_path.read_bytes(),
                                args.macaroon.read_bytes())
    else:
        lnd = open_lnd(settings.lnd, "pay")

    async def run() -> None:
        async with lnd:
            if args.follow:
                await keep_channel_backups(lnd, store)
            else:
                print(f"channel backup written to {await export_channel_backup(lnd, store)}")

    if args.follow:
        exit_on_sigterm()
    asyncio.run(run())
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from satrank.backup import BackupError, restore_backup
    from satrank.backup_crypto import (
        BackupCryptoError,
        Decryption,
        read_identities,
        read_passphrase,
    )

    try:
        decryption = Decryption(
            read_identities(args.identity) if args.identity else (),
            read_passphrase(args.passphrase_file) if args.passphrase_file else None)
        with _dsn_of(settings) as dsn:
            report = restore_backup(dsn, args.input, secrets_out=args.secrets_out,
                                    decryption=decryption)
    except (BackupError, BackupCryptoError) as exc:
        print(f"satrank restore: {exc}", file=sys.stderr)
        return 1
    print(f"restored {args.input} (made {report.manifest['createdAt']}, schema version "
          f"{report.manifest['schemaVersion']}): {len(report.tables)} tables, "
          f"{sum(report.tables.values())} rows, row counts match the manifest")
    if report.has_secrets and args.secrets_out is None:
        print("the backup holds secrets.env: pass --secrets-out FILE to extract it")
    return 0


def cmd_healthcheck(args: argparse.Namespace, settings: Settings) -> int:
    from satrank.db.embedded import running_embedded_dsn
    from satrank.healthcheck import ask_api, check_database_directly, health_url

    url = args.url or health_url(settings.api.host, settings.api.port)
    verdict = ask_api(url, args.timeout)
    if verdict is None:
        dsn = (settings.database.url.reveal() if settings.database.url
               else running_embedded_dsn(settings.data_dir))
        verdict = check_database_directly(dsn, args.timeout)
    print("\n".join(verdict.lines()))
    if not args.challenge:
        return verdict.exit_code
    challenge_ok = _check_challenge(args, settings, url)
    return verdict.exit_code if challenge_ok else 2


def _check_challenge(args: argparse.Namespace, settings: Settings, url: str) -> bool:
    from datetime import UTC, datetime

    from satrank.healthcheck_challenge import (
        ChallengeVerdict,
        challenge_url,
        check_challenge,
        record_challenge,
    )
    from satrank.lightning.errors import LightningError
    from satrank.lightning.lnd import open_lnd

    target = challenge_url(url)
    node = args.node_pubkey
    if node is None:
        try:
            async def our_node() -> str:
                async with open_lnd(settings.lnd, "readonly") as lnd:
                    return (await lnd.get_info()).identity_pubkey
            node = asyncio.run(our_node())
        except LightningError as exc:
            node = None
            verdict = ChallengeVerdict(False, target, [
                f"cannot learn our node's key from LND ({exc}): pass --node-pubkey"])
    if node is not None:
        l402 = settings.l402
        verdict = check_challenge(target, node_pubkey=node, timeout_s=args.timeout,
                                  amount_sat=l402.challenge_credits * l402.challenge_price_sat)
    print("\n".join(verdict.lines()))
    if args.metrics_file is not None:
        record_challenge(args.metrics_file, verdict, datetime.now(UTC))
    return verdict.ok


def cmd_simnet(args: argparse.Namespace, settings: Settings) -> int:
    from satrank.simnet.options import options_from_args
    from satrank.simnet.server import run_simnet

    if (args.graph is None) == (args.generate is None):
        print("satrank simnet: give exactly one of --graph FILE or --generate N", file=sys.stderr)
        return 2
    return run_simnet(options_from_args(args))


def cmd_pay(args: argparse.Namespace, settings: Settings) -> int:
    from satrank.lightning.errors import LightningError
    from satrank.lightning.pay import pay_from_lnd_dir

    try:
        result = asyncio.run(pay_from_lnd_dir(
            args.bolt11, lnd_dir=args.lnd_dir, host=args.lnd_host,
            fee_limit_sat=args.fee_limit_sat, timeout_s=args.timeout))
    except LightningError as exc:
        print(f"satrank pay: {exc}", file=sys.stderr)
        return 1
    assert result.preimage is not None
    print(result.preimage.hex())
    return 0


def cmd_mcp(args: argparse.Namespace, settings: Settings | None = None) -> int:
    """The MCP server for agents; configured by SATRANK_* variables (client/mcp_env.py),
    not by the server's settings, so it needs none of them."""
    from satrank.client.mcp_env import McpConfigError, load_mcp_env

    try:
        env = load_mcp_env()
    except McpConfigError as exc:
        print(f"satrank mcp: {exc}", file=sys.stderr)
        return 2
    try:
        from satrank.client.mcp_server import run
    except ImportError:
        print("satrank mcp: needs the MCP SDK: pip install 'satrank[mcp]'", file=sys.stderr)
        return 2
    run(env, transport=args.transport, host=args.host, port=args.port)
    return 0


def cmd_crawl(args: argparse.Namespace, settings: Settings) -> int:
    from satrank.collector import collector_paused, freeze_startup_objects, tune_for_batches

    with collector_paused():
        from satrank.crawler.jobs import vantage_names
        from satrank.crawler.main import (
            CrawlerBusy,
            crawl_forever,
            crawl_once,
            probe_worker_forever,
        )
        from satrank.crawler.service import LeadershipLost
    freeze_startup_objects(collect=False)
    tune_for_batches()

    if args.probe_worker is not None and args.probe_worker not in vantage_names(settings):
        print(f"satrank crawl --probe-worker: no vantage {args.probe_worker!r} (configured: "
              f"{', '.join(vantage_names(settings))})", file=sys.stderr)
        return 2
    with _dsn_of(settings) as dsn:
        asyncio.run(migrate_dsn(dsn))
        if args.probe_worker is not None:
            asyncio.run(probe_worker_forever(settings, dsn, args.probe_worker))
        elif args.once:
            try:
                lines = asyncio.run(crawl_once(settings, dsn, n_probes=args.probes))
            except CrawlerBusy as exc:
                print(f"satrank crawl --once: {exc}", file=sys.stderr)
                return 1
            for line in lines:
                print(line)
        else:
            try:
                asyncio.run(crawl_forever(settings, dsn))
            except LeadershipLost as exc:
                # Not a clean stop: exit non-zero so that systemd's Restart=on-failure (or
                # the demo) notices instead of leaving the crawler down.
                print(f"satrank crawl: {exc}; exiting to be restarted", file=sys.stderr)
                return 1
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from satrank.db.export import export_scores

    with _dsn_of(settings) as dsn:
        count = asyncio.run(export_scores(dsn, Path(args.out)))
    print(f"exported {count} scores to {args.out}")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from satrank.demo.run import DemoOptions, run_demo

    if settings.is_production:
        print("satrank demo: SATRANK_ENV=production; the demo runs on simnet only",
              file=sys.stderr)
        return 2
    return run_demo(DemoOptions(
        port=settings.api.port if args.port is None else args.port, graph=args.graph,
        generate=args.generate, seed=args.seed, time_scale=args.time_scale,
        first_probes=args.probes), settings)


def exit_on_sigterm() -> None:
    """Make SIGTERM unwind the stack like Ctrl-C does.

    uvicorn re-raises the signal that stopped it once it has shut down; with the default
    SIGTERM action the process would die there, before the embedded Postgres is released.
    """

    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _exit)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    parser = argparse.ArgumentParser(
        prog="satrank",
        description="SatRank: a Lightning trust oracle sold per request over L402.",
    )
    parser.add_argument("--version", action="version", version=f"satrank {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands: dict[str, Command] = {}

    def add(name: str, func: Command, help_text: str) -> argparse.ArgumentParser:
        commands[name] = func
        return sub.add_parser(name, help=help_text, description=help_text)

    add("serve", cmd_serve, "run the HTTP api on uvicorn (HOST, PORT, API_WORKERS); migrates first")
    add("migrate", cmd_migrate, "apply pending database migrations")
    add("db-url", cmd_db_url, "print the database DSN in use (starts the embedded server)")
    add("db-stop", cmd_db_stop, "stop the embedded Postgres server")
    add("keygen", cmd_keygen, "print fresh secrets (L402, API, operator, Nostr nsec + npub)")
    add("nostr-info", cmd_nostr_info, "print the npub, NIP-05 and kind 10040 example of the key")
    backup = add("backup", cmd_backup, "database: a pg_dump and its manifest in one new file "
                 "(optionally age-encrypted); channels: LND's static channel backup, versioned")
    backup.add_argument("what", nargs="?", choices=["database", "channels"], default="database")
    backup.add_argument("--out", type=Path, help="database: the file to write (new, mode 0600)")
    backup.add_argument("--dir", type=Path,
                        help="write a new time-named file into DIR (channels: required)")
    backup.add_argument("--retention-days", type=int, default=None,
                        help="with --dir: delete older backups, never the newest (channels: "
                        "default 90; database: keep all)")
    backup.add_argument("--include-secrets", action="store_true",
                        help="also store the secret settings (secrets.env) in the archive")
    backup.add_argument("--encrypt-to", action="append", default=[], metavar="PUBLIC_KEY",
                        help="age (age1...) or ssh public key to encrypt to; repeatable")
    backup.add_argument("--recipients-file", type=Path, default=None,
                        help="file of public keys to encrypt to, one per line")
    backup.add_argument("--passphrase-file", type=Path, default=None,
                        help="encrypt with the passphrase on this file's first line")
    backup.add_argument("--offsite-command", default=None, metavar="CMD",
                        help="run after each backup; {file} is replaced by its path "
                        "(else appended), e.g. 'rclone copy {file} offsite:satrank/'")
    backup.add_argument("--metrics-file", type=Path, default=None,
                        help="node exporter textfile (.prom) recording the success time")
    backup.add_argument("--follow", action="store_true",
                        help="channels: keep running; a new file on every channel change "
                        "and daily")
    backup.add_argument("--macaroon", type=Path, default=None,
                        help="channels: macaroon with offchain:read (default: "
                        "LND_PAY_MACAROON_PATH)")
    restore = add("restore", cmd_restore, "restore a backup into an EMPTY database")
    restore.add_argument("--in", dest="input", type=Path, required=True, help="archive to read")
    restore.add_argument("--secrets-out", type=Path, default=None,
                         help="write the archive's secrets.env here (mode 0600), if it has one")
    restore.add_argument("--identity", type=Path, default=None,
                         help="encrypted backup: age identity file or ssh private key")
    restore.add_argument("--passphrase-file", type=Path, default=None,
                         help="encrypted backup: file holding the passphrase")
    health = add("healthcheck", cmd_healthcheck,
                 "exit 0 ok, 1 degraded, 2 down; asks the api, else the database")
    health.add_argument("--url", default=None, help="health URL (default from HOST and PORT)")
    health.add_argument("--timeout", type=float, default=5.0, help="seconds per check")
    health.add_argument("--challenge", action="store_true",
                        help="also mint a real L402 challenge through the api and check its "
                        "invoice (decodes, signed by our node, advertised amount); no "
                        "payment. A failed check exits 2")
    health.add_argument("--node-pubkey", default=None,
                        help="our node's key (default: GetInfo with the readonly macaroon)")
    health.add_argument("--metrics-file", type=Path, default=None,
                        help="with --challenge: node exporter textfile (.prom) for alerts")
    simnet = add("simnet", cmd_simnet, "run the LND-compatible network simulator (oracle and "
                 "customer nodes over gRPC+TLS)")
    simnet_options.add_arguments(simnet)
    pay = add("pay", cmd_pay, "pay a BOLT11 invoice through an lnd; prints the preimage hex")
    pay.add_argument("bolt11")
    pay.add_argument("--lnd-dir", type=Path, required=True,
                     help="directory holding tls.cert and admin.macaroon")
    pay.add_argument("--lnd-host", required=True, help="lnd gRPC HOST:PORT")
    pay.add_argument("--fee-limit-sat", type=int, default=1000)
    pay.add_argument("--timeout", type=float, default=60.0, help="seconds")
    mcp = add("mcp", cmd_mcp, "MCP server for LLM agents (tools check_node, decide_payment, "
              "find_service, report_outcome); pays within SATRANK_MAX_SAT_PER_* caps")
    mcp.add_argument("--transport", choices=["stdio", "http"], default="stdio",
                     help="stdio (default; for desktop MCP hosts) or streamable HTTP")
    mcp.add_argument("--host", default="127.0.0.1", help="http: address to listen on")
    mcp.add_argument("--port", type=int, default=8000, help="http: port to listen on")
    crawl = add("crawl", cmd_crawl, "run the crawler: graph sync, probes, scoring (leader-elected)")
    crawl.add_argument("--once", action="store_true",
                       help="one cycle: sync, score, one probe round, rescore; then exit")
    crawl.add_argument("--probes", type=int, default=100, help="probes in the --once round")
    crawl.add_argument("--probe-worker", metavar="VANTAGE",
                       help="run only the probe worker of VANTAGE (oracle, or the lower-case "
                            "<NAME> of LND_VANTAGE_<NAME>_*) against the shared Postgres")
    export = add("export", cmd_export, "export data as JSON lines")
    export.add_argument("what", choices=["scores"])
    export.add_argument("--out", required=True, help="output file (JSON lines)")
    demo = add("demo", cmd_demo, "run Postgres, simnet, crawler and api on loopback; print "
               "what to try (Ctrl-C stops all)")
    demo.add_argument("--port", type=int, default=None, help="api port (default: PORT, 3000)")
    demo.add_argument("--graph", type=Path, default=None,
                      help="describegraph JSON for simnet (default: the mainnet snapshot in "
                      "../shared/data/ when present)")
    demo.add_argument("--generate", type=int, metavar="N", default=None,
                      help="simnet on a generated graph of N nodes (default without "
                      "snapshot: 2000)")
    demo.add_argument("--seed", type=int, default=1, help="simnet seed")
    demo.add_argument("--time-scale", type=float, default=1.0,
                      help="simnet HTLC latency scale (0 = instant)")
    demo.add_argument("--probes", type=int, default=50, help="probes in the first cycle")
    return parser, commands


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = build_parser()
    args = parser.parse_args(argv)
    if args.command == "keygen":  # needs no configuration: it makes one
        return cmd_keygen(args)
    if args.command == "mcp":  # an agent's tool, configured by its own SATRANK_* variables
        return cmd_mcp(args)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"satrank: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    install_redaction(settings)
    try:
        return commands[args.command](args, settings)
    except MigrationError as exc:
        print(f"satrank: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
