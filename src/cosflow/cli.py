"""The ``cosflow`` command: serve, doctor, callbacks, --version.

Only ``serve`` creates a data dir (and a dev key pair); every other command works on the one the
settings name (``--data-dir``, ``COSFLOW_DATA_DIR``, ``--config``) and, when there is none, says
so in one line on stderr and exits 1. Results go to stdout, diagnostics to stderr.
"""

from __future__ import annotations

import contextlib
import logging
import platform
import resource
import socket
import sys
from dataclasses import replace
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
import uvicorn
from rich.console import Console

from cosflow import __version__
from cosflow.api.app import create_app
from cosflow.domain import citimes
from cosflow.domain.deliveries import Callback
from cosflow.errors import ConfigError, CosflowError
from cosflow.media.base import Registry
from cosflow.services.callbacks import CallbackService
from cosflow.settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

cli = typer.Typer(add_completion=False, help="cosflow: COS-compatible object store with media workflows.")
#: Results, never wrapped (a long line stays one line in a pipe) or colour-guessed.
console = Console(soft_wrap=True, highlight=False)
#: Diagnostics and errors.
errors = Console(stderr=True, soft_wrap=True, highlight=False)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML settings file")]
HostOpt = Annotated[str | None, typer.Option("--host", help="address to listen on")]
PortOpt = Annotated[int | None, typer.Option("--port", help="port (0 picks a free one)")]
DataOpt = Annotated[Path | None, typer.Option("--data-dir", help="where data lives")]


class _JsonishFormatter(logging.Formatter):
    """One line per record with its structured fields as key=value."""

    _plain = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "color_message"}

    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extra = {k: v for k, v in record.__dict__.items() if k not in self._plain}
        return base + ("" if not extra else " " + " ".join(f"{k}={v}" for k, v in extra.items()))


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_JsonishFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _fail(message: str, code: int) -> NoReturn:
    """One line on stderr, then exit ``code`` (2: the command line is wrong; 1: the setup is)."""
    errors.print(message, markup=False)
    raise typer.Exit(code)


def _version_option(value: bool) -> None:
    if value:
        try:
            number = metadata.version("cosflow")
        except metadata.PackageNotFoundError:  # run from a source tree that was never installed
            number = __version__
        print(f"cosflow {number}")
        raise typer.Exit(0)


@cli.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_option, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """cosflow: COS-compatible object store with media workflows."""


def _load(config: Path | None, *, create: bool = False, **overrides: object) -> Settings:
    """The settings; only ``serve`` passes ``create`` (it may generate the dev key pair)."""
    try:
        return load_settings(config, create_dev_credentials=create, **overrides)
    except ConfigError as exc:
        _fail(f"configuration error: {exc}", 2)


def _find_database(settings: Settings) -> tuple[Engine | None, str]:
    """The database a server set up, and a line describing it; (None, why) when there is none.

    Creates nothing: a SQLite file that does not exist is reported, never made, and the schema is
    read, never migrated (``serve`` migrates).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from cosflow.db.engine import make_engine, revisions

    data_dir = settings.data_dir.resolve()
    if not settings.database_url and not data_dir.is_dir():
        hint = "set --data-dir, COSFLOW_DATA_DIR or data_dir in --config; `cosflow serve` creates one"
        return None, f"no cosflow data dir at {data_dir} ({hint})"
    try:
        engine = make_engine(settings.effective_database_url)
    except ConfigError as exc:
        return None, str(exc)
    where = engine.url.render_as_string()
    if engine.dialect.name == "sqlite" and not Path(engine.url.database or "").is_file():
        engine.dispose()
        return None, f"no cosflow database at {Path(engine.url.database or '').resolve()} (`cosflow serve` creates it)"
    try:
        current, head = revisions(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        return None, f"cannot open the database {where}: {str(exc).splitlines()[0]}"
    if current != head:
        engine.dispose()
        found = f"schema revision {current}" if current else "no cosflow schema"
        return None, f"the database {where} has {found}; this cosflow needs {head} (start `cosflow serve` once)"
    return engine, f"{engine.dialect.name} ({where}), schema {head}"


def _banner(settings: Settings, port: int) -> str:
    pair = settings.credentials[0]
    endpoint = f"http://{settings.host}:{port}"
    return f"""cosflow {__version__} listening on {endpoint}
  data dir   {settings.data_dir.resolve()}
  APPID      {settings.appid}
  region     {settings.region}
  SecretId   {pair.secret_id}
  SecretKey  {pair.secret_key}

Point the official SDK (pip install cos-python-sdk-v5) at it:

  from qcloud_cos import CosConfig, CosS3Client
  config = CosConfig(Region="{settings.region}", SecretId="{pair.secret_id}",
                     SecretKey="{pair.secret_key}", Scheme="http",
                     IP="{settings.host}", Port={port}, ServiceDomain="{settings.host}:{port}")
  client = CosS3Client(config)
  client.create_bucket(Bucket="demo-{settings.appid}")
  client.put_object(Bucket="demo-{settings.appid}", Key="hello.txt", Body=b"hi")
"""


def _raise_open_file_limit() -> None:
    """A multipart object is read with one descriptor per part (up to 10,000): allow as many as
    the system's hard limit permits."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 1 << 20, hard))


def _require_database(settings: Settings) -> None:
    """A database server named by ``database_url`` must answer before anything binds or prints:
    an unreachable host, a refused password or a missing database stops here in one line (the
    embedded SQLite file is created by the server itself, inside its locked data dir)."""
    if not settings.database_url or settings.database_url.startswith("sqlite"):
        return
    from cosflow.db.engine import check_connection, make_engine

    try:
        engine = make_engine(settings.database_url)
    except ConfigError as exc:
        _fail(f"configuration error: {exc}", 2)
    try:
        check_connection(engine)
    except ConfigError as exc:
        _fail(str(exc), 1)
    finally:
        engine.dispose()


def run_server(settings: Settings, registry: Registry | None = None) -> None:
    """Bind, print how to connect, and serve until interrupted (also used by test harnesses)."""
    _configure_logging(settings.log_level)
    _require_database(settings)
    _raise_open_file_limit()
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        _fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}", 1)
    settings = replace(settings, port=sock.getsockname()[1])
    print(_banner(settings, settings.port), flush=True)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, registry),
            lifespan="on",
            log_config=None,
            access_log=False,
            http="h11",  # keeps header case: SDK users read response["ETag"]
            loop="uvloop",
            timeout_keep_alive=30,
            server_header=False,
        )
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C / SIGINT is the normal way to stop
        server.run(sockets=[sock])


@cli.command()
def serve(config: ConfigOpt = None, host: HostOpt = None, port: PortOpt = None, data_dir: DataOpt = None) -> None:
    """Start the server (SQLite + local disk by default); creates the data dir if needed."""
    run_server(_load(config, create=True, host=host, port=port, data_dir=data_dir))


def _doctor_data_dir(settings: Settings) -> bool:
    data_dir = settings.data_dir.resolve()
    if not data_dir.is_dir():
        console.print(f"data dir   [red]none at {data_dir}[/red] (`cosflow serve` creates it)")
        return False
    probe = data_dir / ".doctor"
    try:
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        console.print(f"data dir   [red]{data_dir} is not writable: {exc.strerror}[/red]")
        return False
    console.print(f"data dir   {data_dir} (writable)")
    return True


def _doctor_database(settings: Settings, have_data_dir: bool) -> bool:
    from sqlalchemy import text

    if not have_data_dir and not settings.database_url:
        console.print("database   [red]none[/red] (it lives in the data dir)")
        return False
    engine, said = _find_database(settings)
    if engine is None:
        console.print(f"database   [red]{said}[/red]")
        return False
    try:
        with engine.connect() as conn:
            query = "select sqlite_version()" if engine.dialect.name == "sqlite" else "select version()"
            version = conn.execute(text(query)).scalar()
    except Exception as exc:  # any driver error is a finding to report
        console.print(f"database   [red]unreachable: {str(exc).splitlines()[0]}[/red]")
        return False
    finally:
        engine.dispose()
    console.print(f"database   {said}, {engine.dialect.name} {version}")
    return True


@cli.command()
def doctor(config: ConfigOpt = None, data_dir: DataOpt = None) -> None:
    """Report what is installed and whether the data dir and database work (creates nothing)."""
    from cosflow.media.ffmpeg import locate

    settings = _load(config, data_dir=data_dir)
    console.print(f"cosflow    {__version__} on Python {platform.python_version()} ({platform.platform()})")
    binary = locate()
    if binary is None:
        console.print("ffmpeg     [red]missing[/red] (install ffmpeg, or pip install imageio-ffmpeg)")
    else:
        console.print(f"ffmpeg     {binary.path} ({binary.source}) {binary.version}")
    ok = [binary is not None, _doctor_data_dir(settings), _doctor_database(settings, settings.data_dir.is_dir())]
    for name in ("starlette", "uvicorn", "sqlalchemy", "alembic", "aiohttp", "av"):
        console.print(f"{name:<10} {metadata.version(name)}")
    raise typer.Exit(0 if all(ok) else 1)


callbacks_cli = typer.Typer(help="The callback delivery log, and a local receiver.")
cli.add_typer(callbacks_cli, name="callbacks")


def _callback_service(config: Path | None, data_dir: Path | None) -> CallbackService:
    """The delivery log of the configured data dir; one line and exit 1 when there is none."""
    engine, said = _find_database(_load(config, data_dir=data_dir))
    if engine is None:
        _fail(said, 1)
    return CallbackService(engine, wake=None)


def _time_option(name: str, text: str) -> datetime | None:
    if not text:
        return None
    try:
        return citimes.parse(text)
    except ValueError:
        _fail(f"{name}: not a time: {text!r} (e.g. 2024-05-08T11:05:09+0800)", 2)


def _summary(c: Callback) -> str:
    when = c.delivered_at or c.next_attempt_at
    return (
        f"{c.callback_id}  {c.run_id}  #{c.seq} {c.event:<14} {c.state:<9} attempts={c.attempts} "
        f"{when:%Y-%m-%d %H:%M:%S}  {c.last_error}"
    )


@callbacks_cli.command("list")
def callbacks_list(
    run: Annotated[str, typer.Option("--run", help="RunId")] = "",
    state: Annotated[str, typer.Option("--state", help="pending | delivered | dead")] = "",
    since: Annotated[str, typer.Option("--since", help="ISO time")] = "",
    limit: int = 100,
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """List callbacks by run or state, one line each."""
    after = _time_option("--since", since)
    service = _callback_service(config, data_dir)
    try:
        found = service.search(run_id=run, state=state, since=after, limit=limit)
    except CosflowError as exc:
        _fail(exc.message, 2)
    for callback in found:
        print(_summary(callback))


@callbacks_cli.command("show")
def callbacks_show(callback_id: str, config: ConfigOpt = None, data_dir: DataOpt = None) -> None:
    """Print the callback's body to stdout exactly as it is sent (byte for byte, nothing added, so
    it pipes into jq or xmllint); its state, URL and every attempt go to stderr."""
    try:
        callback, attempts = _callback_service(config, data_dir).show(callback_id)
    except CosflowError as exc:
        _fail(exc.message, 2)
    errors.print(_summary(callback), markup=False)
    errors.print(f"POST {callback.url} ({callback.content_type})", markup=False)
    for attempt in attempts:
        errors.print(
            f"  {attempt.attempted_at:%Y-%m-%d %H:%M:%S} status={attempt.status_code} {attempt.latency_ms} ms "
            f"{attempt.error} {attempt.response_body[:200]!r}",
            markup=False,
        )
    sys.stdout.flush()
    sys.stdout.buffer.write(callback.body.encode())  # the bytes the dispatcher sends
    sys.stdout.buffer.flush()


@callbacks_cli.command("redeliver")
def callbacks_redeliver(
    callback_ids: Annotated[list[str] | None, typer.Argument(help="callback ids")] = None,
    failed_since: Annotated[str, typer.Option("--failed-since", help="every dead callback since (ISO time)")] = "",
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Put callbacks back in line (the running server delivers them)."""
    since = _time_option("--failed-since", failed_since)
    if since is None and not callback_ids:
        _fail("name callback ids or --failed-since", 2)
    service = _callback_service(config, data_dir)
    count = service.redeliver_failed_since(since) if since is not None else service.redeliver(list(callback_ids or ()))
    print(f"redelivering {count} callback(s)")


@callbacks_cli.command("listen")
def callbacks_listen(
    port: int = 9000,
    host: str = "127.0.0.1",
    secret: Annotated[str | None, typer.Option("--secret", help="whsec_... to verify signatures")] = None,
    status: Annotated[int, typer.Option("--status", help="HTTP status to answer")] = 200,
) -> None:
    """Receive callbacks and print them readably."""
    from cosflow.listener import Listener

    console.print(f"listening on http://{host}:{port}/ (answering {status})")
    uvicorn.run(Listener(status, secret, console), host=host, port=port, log_level="warning", lifespan="off")


def main() -> None:
    cli()
