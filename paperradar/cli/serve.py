"""``paperradar serve``: the web app (pages, JSON API, Atom feeds), optionally syncing in the background."""

from __future__ import annotations

import argparse
import logging
import os
import re
import socket
import sys
from urllib.parse import urlsplit
from typing import Any

from ..app import Radar
from ..config import ENV_BASE_URL, REGISTRATION, Settings
from ..store import StorageFault
from .common import UsageError


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (0-65535): {text!r}")
    return value


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    from ..sync.config import ENV_CONFIG

    p = sub.add_parser("serve", parents=[common], help="run the web app: daily feed, search, paper pages, JSON API, Atom",
                       description="Serve the web app and its JSON API on HOST:PORT until interrupted. "
                                   "--sync also runs `sync --all` in the background on the config's schedule.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=port_number, default=8000, help="port to listen on (default 8000; 0 picks a free one)")
    p.add_argument("--sync", action="store_true", help="also run `sync --all` in the background, every schedule.every")
    p.add_argument("--every", metavar="INTERVAL", help="with --sync: time between sync rounds (30m, 6h, 1d; default: the config's schedule.every)")
    p.add_argument("--config", metavar="FILE",
                   help=f"configuration file: [site] and, with --sync, the sources (default: ${ENV_CONFIG}, "
                        "else config.toml in your config directory)")
    p.add_argument("--base-url", metavar="URL",
                   help=f"the site's public address, for absolute links in feeds (default: ${ENV_BASE_URL}, "
                        "else [site] base_url; without one, links use the address a request came through)")
    p.add_argument("--allow-host", metavar="NAME", action="append", default=[],
                   help="also answer requests for this host name (repeatable; the base URL's host, the listen "
                        "address and localhost are always answered, any other Host gets a 400)")
    p.add_argument("--registration", choices=REGISTRATION,
                   help="who may make an account on the web: closed (only `paperradar users add`), invite "
                        "(with a link from `paperradar users invite`) or open (anyone); default: [site] "
                        "registration, else closed")
    p.add_argument("--embed", action="store_true",
                   help="embed papers that have no vector yet in the background (as `paperradar embed`), the site up meanwhile")
    p.add_argument("--access-log", action="store_true", help="log every request to stderr")
    p.set_defaults(run=cmd_serve)


def cmd_serve(radar: Radar, args: argparse.Namespace) -> int:
    import uvicorn

    from ..web import create_app

    if args.every and not args.sync:
        raise UsageError("serve: --every goes with --sync")
    radar.settings = site_settings(args)
    if radar.store.read_only and (args.sync or args.embed):  # a read-only copy is served; it cannot grow
        option = "--sync" if args.sync else "--embed"
        raise StorageFault(radar.store.path, radar.store.read_only, f"serve {option} stores what it fetches "
                           f"or computes; serve it without {option}")
    scheduler = _start_sync(radar, args) if args.sync else None
    mail = _start_mail(radar, args) if args.sync else None
    app = create_app(radar)
    if args.embed:
        _start_embedding(radar)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",  # our own line says where the site is
        access_log=args.access_log,
        server_header=False,
        h11_max_incomplete_event_size=160 * 1024,  # the longest query string the app takes (131,072 bytes), and headers
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    _announce_when_started(server, radar, args)
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn shut down cleanly, then re-raised the Ctrl-C: the normal way to stop
        print("paperradar: stopped", file=sys.stderr)
        return 0
    except SystemExit:  # uvicorn exits when it cannot bind the address (it said why just above)
        print(f"paperradar: cannot serve on {args.host}:{args.port} (see above)", file=sys.stderr)
        return 1
    finally:
        if scheduler is not None:
            scheduler.stop(timeout=10)
        if mail is not None:
            mail.stop(timeout=10)
    return 0 if server.started else 1


def site_settings(args: argparse.Namespace) -> Settings:
    """The site's address, the host names it answers to and who may register: options, then
    environment, then [site]; with --sync, the sources (submitted papers are fetched)."""
    from ..sync.config import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    site = config.site
    base_url = (args.base_url or os.environ.get(ENV_BASE_URL) or site.base_url or "").rstrip("/") or None
    if base_url and not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", base_url):
        raise UsageError(f"serve: --base-url must be an http:// or https:// address, not {base_url!r}")
    hosts = {"localhost", "127.0.0.1", "::1", *site.hosts, *args.allow_host}
    if base_url:
        hosts.add(urlsplit(base_url).hostname or "")
    if args.host in ("0.0.0.0", "::"):  # every interface: the machine's own names and addresses
        hosts |= _own_names()
    else:
        hosts.add(args.host)
    return Settings(base_url=base_url, hosts=tuple(sorted(h for h in hosts if h)),
                    registration=args.registration or site.registration, live=config if args.sync else None,
                    mail=config.mail)


def _own_names() -> set[str]:
    name = socket.gethostname()
    names = {name, socket.getfqdn()}
    try:
        names |= set(socket.gethostbyname_ex(name)[2])
    except OSError:
        pass
    return names


def _announce_when_started(server: Any, radar: Radar, args: argparse.Namespace) -> None:
    """Print the site's address (with the real port when --port 0) once uvicorn listens."""
    startup = server.startup

    async def announced(sockets: Any = None) -> None:
        await startup(sockets=sockets)
        if not server.started:
            return
        port = args.port
        for s in server.servers:
            for sock in s.sockets:
                port = sock.getsockname()[1]
        host = args.host if args.host not in ("0.0.0.0", "::") else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        print(f"paperradar: serving {radar.store.count():,} papers at http://{host}:{port}/ (Ctrl-C stops)",
              file=sys.stderr, flush=True)

    server.startup = announced


def _start_embedding(radar: Radar) -> None:
    status = radar.embed_status()
    pending = status["pending"]
    if not pending and not status["sentences_pending"]:
        return

    def on_done(result: Any) -> None:
        if isinstance(result, BaseException):
            print(f"paperradar: background embedding failed: {result}", file=sys.stderr, flush=True)
        else:
            print(f"paperradar: embedded {result.embedded:,} papers in {result.seconds:.0f} s: "
                  "semantic search and similar papers cover them all", file=sys.stderr, flush=True)

    print(f"paperradar: embedding {pending:,} papers in the background (similar papers and semantic "
          "search cover them as they are done)", file=sys.stderr, flush=True)
    radar.refresh_in_background(on_done)


def _start_mail(radar: Radar, args: argparse.Namespace) -> Any:
    """With --sync: the day's digests from [mail] send_hour, and the outbox delivered every few minutes
    (paperradar.mail.schedule); None, said once, when mail or the base URL is not set up."""
    from ..mail.outbox import Outbox
    from ..mail.schedule import start_digest_schedule
    from ..mail.smtp import Mailer, MailNotConfigured, MailSetupError
    from .sync import _StderrLog

    settings = radar.settings.mail
    try:
        mailer = Mailer.from_settings(settings)
    except MailNotConfigured as exc:
        print(f"paperradar: no digests are sent: {exc}", file=sys.stderr)
        return None
    except MailSetupError as exc:
        raise UsageError(f"serve: mail: {exc}") from exc
    if not radar.settings.base_url:
        print("paperradar: no digests are sent: there is no base URL (--base-url, $PAPERRADAR_BASE_URL or "
              "[site] base_url), and the links in mails must be absolute", file=sys.stderr)
        return None
    outbox = Outbox(radar.store, mailer, rate=settings.rate, tries=settings.tries, backoff=settings.backoff)
    logger = logging.getLogger("paperradar.mail")  # what was sent and what failed, one line a round
    if not any(isinstance(h, _StderrLog) for h in logger.handlers):
        logger.addHandler(_StderrLog())
    logger.setLevel(logging.INFO)
    hour = radar.settings.mail.send_hour
    print(f"paperradar: sending the digests every day from {hour:02d}:00 (mail every 5 minutes)", file=sys.stderr)
    return start_digest_schedule(radar, outbox, hour, radar.settings.base_url)


def _start_sync(radar: Radar, args: argparse.Namespace) -> Any:
    from ..sync.config import ConfigError, load_config, parse_interval
    from ..sync.schedule import start_sync_schedule
    from .sync import _log_sync_to_stderr, _sync_line

    try:
        config = load_config(args.config)
        every = parse_interval(args.every, "--every") if args.every else None
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    _log_sync_to_stderr()
    log = logging.getLogger("paperradar.sync")

    def on_reports(reports: list[dict[str, Any]]) -> None:
        radar.keyword.refresh()  # searches see the new papers at once
        for report in reports:
            log.info(_sync_line(report))

    interval = every or config.every
    print(f"paperradar: syncing every {interval:g} s in the background", file=sys.stderr)
    return start_sync_schedule(radar, config, interval, on_reports=on_reports)
