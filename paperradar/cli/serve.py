"""``paperradar serve``: the web app (pages, JSON API, Atom feeds), optionally syncing in the background."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import socket
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..app import Radar
from ..config import ENV_BASE_URL, REGISTRATION, Settings
from ..store import StorageFault, StoreError
from .common import UsageError


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (0-65535): {text!r}")
    return value


def worker_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"not a number of workers (1-64): {text!r}")
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
    p.add_argument("--workers", type=worker_count, default=1, metavar="N",
                   help="web worker processes answering on the one port (default 1); the background jobs of "
                        "--sync and --embed run in one of them at a time (see docs/postgresql.md, Workers)")
    p.set_defaults(run=cmd_serve)


def cmd_serve(radar: Radar, args: argparse.Namespace) -> int:
    if args.every and not args.sync:
        raise UsageError("serve: --every goes with --sync")
    radar.settings = site_settings(args)
    if radar.store.read_only and (args.sync or args.embed):  # a read-only copy is served; it cannot grow
        option = "--sync" if args.sync else "--embed"
        raise StorageFault(radar.store.path, radar.store.read_only, f"serve {option} stores what it fetches "
                           f"or computes; serve it without {option}")
    if args.workers > 1:
        return _serve_workers(radar, args)
    import uvicorn

    site = build_site(radar, args, uuid.uuid4().hex)
    server = uvicorn.Server(_uvicorn_config(site.app, args))
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
        site.stop()
    return 0 if server.started else 1


@dataclass
class Site:
    """One process's web app and the background jobs it started (stopped with the server)."""

    app: Any
    jobs: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        for job in self.jobs:
            job.stop(timeout=10)


def build_site(radar: Radar, args: argparse.Namespace, generation: str, quiet: bool = False) -> Site:
    """The one way a serving process is made, alone or as one of ``--workers``: the app from
    :func:`paperradar.web.create_app`, and with --sync / --embed the background jobs, which every
    process starts and the job locks let one process at a time run (:mod:`paperradar.store.job_lock`).
    ``generation`` names the processes of one ``serve`` (see :mod:`paperradar.sync.schedule`);
    ``quiet``: the workers leave saying what they do to the parent, which says it once."""
    from ..web import create_app

    site = Site(app=None)
    if args.sync:
        site.jobs.append(_start_sync(radar, args, generation, quiet))
        mail = _start_mail(radar, quiet)
        if mail is not None:
            site.jobs.append(mail)
    site.app = create_app(radar)
    if args.embed:
        _start_embedding(radar, quiet)
    return site


def _uvicorn_config(app: Any, args: argparse.Namespace, **more: Any) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",  # our own line says where the site is
        access_log=args.access_log,
        server_header=False,
        h11_max_incomplete_event_size=160 * 1024,  # the longest query string the app takes (131,072 bytes), and headers
        timeout_graceful_shutdown=5,
        **more,
    )


# -- several workers -----------------------------------------------------------------------

ENV_WORKER = "PAPERRADAR_SERVE_WORKER"  # what a worker process is to serve (JSON), set by the parent
_WORKER_OPTIONS = ("host", "port", "sync", "every", "config", "base_url", "allow_host", "registration", "embed",
                   "access_log", "workers")


def _serve_workers(radar: Radar, args: argparse.Namespace) -> int:
    """``--workers N``: uvicorn's supervisor binds the port here and starts N processes that each build
    the site with :func:`worker_app` (what to serve comes through the environment: uvicorn starts its
    workers afresh and calls a factory without arguments); it restarts a worker that dies."""
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    mails = None
    if args.sync:  # the settings the workers will read, checked once here: a mistake is one line, not N
        _sync_settings(args)
        mails = _mail_outbox(radar, quiet=False)
    radar.refresh()  # the keyword index caught up once, before the workers open it
    generation = uuid.uuid4().hex
    location = getattr(radar.store, "url", None) or radar.store.path
    os.environ[ENV_WORKER] = json.dumps({"db": location, "generation": generation,
                                         "args": {k: getattr(args, k) for k in _WORKER_OPTIONS}})
    config = _uvicorn_config(f"{__name__}:worker_app", args, factory=True, workers=args.workers)
    try:
        sock = config.bind_socket()
    except SystemExit:  # it said why just above
        print(f"paperradar: cannot serve on {args.host}:{args.port} (see above)", file=sys.stderr)
        return 1
    sock.listen(config.backlog)  # connections wait in the queue until a worker takes them
    if args.sync:
        print(f"paperradar: syncing every {_sync_settings(args)[1]:g} s in the background, in one worker "
              "at a time", file=sys.stderr)
    if mails is not None:
        print(f"paperradar: sending the digests every day from {radar.settings.mail.send_hour:02d}:00 (mail "
              "every 5 minutes), in one worker at a time", file=sys.stderr)
    _say_serving(radar, args, sock.getsockname()[1], f" with {args.workers} workers")
    radar.close()
    supervisor = Multiprocess(config, sockets=[sock])
    supervisor.run()  # until Ctrl-C or SIGTERM, or a worker that could not start; it stops the workers
    if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
        print("paperradar: a worker could not start (see above): stopped", file=sys.stderr)
        return 1
    print("paperradar: stopped", file=sys.stderr)
    return 0


def worker_app() -> Any:
    """A worker's app (uvicorn's factory, called in each worker process): the site as the parent
    described it in ``$PAPERRADAR_SERVE_WORKER``, its jobs stopped when the worker shuts down."""
    import threading

    from tqdm import tqdm
    from uvicorn.config import STARTUP_FAILURE

    # tqdm's bars (sync, embedding) share a multiprocessing lock, which a worker (a multiprocessing
    # child) leaves to the parent's resource tracker, which then warns of a leak at every shutdown.
    tqdm.set_lock(threading.RLock())
    try:
        spec = json.loads(os.environ[ENV_WORKER])
        args = argparse.Namespace(**spec["args"])
        radar = Radar.open(spec["db"])
        radar.settings = site_settings(args)
        site = build_site(radar, args, spec["generation"], quiet=True)
    except (UsageError, StorageFault, StoreError, OSError, KeyError, ValueError) as exc:
        # the parent checked all this; what changed since is said once, and uvicorn then stops every worker
        print(f"paperradar: worker {os.getpid()}: {exc}", file=sys.stderr, flush=True)
        sys.exit(STARTUP_FAILURE)
    return _StopsJobs(site.app, site.stop)


class _StopsJobs:
    """ASGI wrapper: at the server's lifespan shutdown the worker's background jobs are stopped first."""

    def __init__(self, app: Any, stop: Any) -> None:
        self.app = app
        self.stop = stop

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def received() -> Any:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.stop)
            return message

        await self.app(scope, received, send)


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
        _say_serving(radar, args, port)

    server.startup = announced


def _say_serving(radar: Radar, args: argparse.Namespace, port: int, how: str = "") -> None:
    host = args.host if args.host not in ("0.0.0.0", "::") else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    print(f"paperradar: serving {radar.store.count():,} papers at http://{host}:{port}/{how} (Ctrl-C stops)",
          file=sys.stderr, flush=True)


def _start_embedding(radar: Radar, quiet: bool = False) -> None:
    """``--embed``: embed what has no vector in a background thread, in one process at a time (the job
    lock ``embed``, held until it is done; a worker that finds it taken leaves the embedding to its holder)."""
    from ..store.job_lock import job_lock

    lock = job_lock(radar.store, "embed")
    if not lock.acquire():
        return
    status = radar.embed_status()
    pending = status["pending"]
    if not pending and not status["sentences_pending"]:
        lock.release()
        return

    def on_done(result: Any) -> None:
        lock.release()
        if isinstance(result, BaseException):
            print(f"paperradar: background embedding failed: {result}", file=sys.stderr, flush=True)
        else:
            print(f"paperradar: embedded {result.embedded:,} papers in {result.seconds:.0f} s: "
                  "semantic search and similar papers cover them all", file=sys.stderr, flush=True)

    print(f"paperradar: embedding {pending:,} papers in the background (similar papers and semantic "
          "search cover them as they are done)", file=sys.stderr, flush=True)
    radar.refresh_in_background(on_done)


def _mail_outbox(radar: Radar, quiet: bool) -> Any:
    """The outbox that sends the digests (None, said once, when mail or the base URL is not set up)."""
    from ..mail.outbox import Outbox
    from ..mail.smtp import Mailer, MailNotConfigured, MailSetupError

    settings = radar.settings.mail
    try:
        mailer = Mailer.from_settings(settings)
    except MailNotConfigured as exc:
        _say(quiet, f"paperradar: no digests are sent: {exc}")
        return None
    except MailSetupError as exc:
        raise UsageError(f"serve: mail: {exc}") from exc
    if not radar.settings.base_url:
        _say(quiet, "paperradar: no digests are sent: there is no base URL (--base-url, $PAPERRADAR_BASE_URL or "
                    "[site] base_url), and the links in mails must be absolute")
        return None
    return Outbox(radar.store, mailer, rate=settings.rate, tries=settings.tries, backoff=settings.backoff)


def _start_mail(radar: Radar, quiet: bool = False) -> Any:
    """With --sync: the day's digests from [mail] send_hour, and the outbox delivered every few minutes
    (paperradar.mail.schedule); None when mail or the base URL is not set up."""
    from ..mail.schedule import start_digest_schedule
    from .sync import _StderrLog

    outbox = _mail_outbox(radar, quiet)
    if outbox is None:
        return None
    logger = logging.getLogger("paperradar.mail")  # what was sent and what failed, one line a round
    if not any(isinstance(h, _StderrLog) for h in logger.handlers):
        logger.addHandler(_StderrLog())
    logger.setLevel(logging.INFO)
    hour = radar.settings.mail.send_hour
    _say(quiet, f"paperradar: sending the digests every day from {hour:02d}:00 (mail every 5 minutes)")
    return start_digest_schedule(radar, outbox, hour, radar.settings.base_url)


def _sync_settings(args: argparse.Namespace) -> tuple[Any, float]:
    """The sync configuration and the time between rounds (--every, else the config's); a UsageError when wrong."""
    from ..sync.config import ConfigError, load_config, parse_interval

    try:
        config = load_config(args.config)
        every = parse_interval(args.every, "--every") if args.every else None
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    return config, every or config.every


def _start_sync(radar: Radar, args: argparse.Namespace, generation: str, quiet: bool = False) -> Any:
    from ..sync.schedule import start_sync_schedule
    from .sync import _log_sync_to_stderr, _sync_line

    config, interval = _sync_settings(args)
    _log_sync_to_stderr()
    log = logging.getLogger("paperradar.sync")

    def on_reports(reports: list[dict[str, Any]]) -> None:
        radar.keyword.refresh()  # searches see the new papers at once
        for report in reports:
            log.info(_sync_line(report))

    _say(quiet, f"paperradar: syncing every {interval:g} s in the background")
    return start_sync_schedule(radar, config, interval, on_reports=on_reports, generation=generation)


def _say(quiet: bool, line: str) -> None:
    if not quiet:
        print(line, file=sys.stderr)
