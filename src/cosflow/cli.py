"""The ``cosflow`` command: serve, doctor."""

from __future__ import annotations

import contextlib
import logging
import platform
import resource
import socket
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated

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

cli = typer.Typer(add_completion=False, help="cosflow: COS-compatible object store with media workflows.")
console = Console()

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


def _load(config: Path | None, **overrides: object) -> Settings:
    try:
        return load_settings(config, **overrides)
    except ConfigError as exc:
        console.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


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


def run_server(settings: Settings, registry: Registry | None = None) -> None:
    """Bind, print how to connect, and serve until interrupted (also used by test harnesses)."""
    _configure_logging(settings.log_level)
    _raise_open_file_limit()
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        console.print(f"[red]cannot listen on {settings.host}:{settings.port}:[/red] {exc}")
        raise typer.Exit(1) from exc
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
    """Start the server (SQLite + local disk by default)."""
    run_server(_load(config, host=host, port=port, data_dir=data_dir))


@cli.command()
def doctor(config: ConfigOpt = None, data_dir: DataOpt = None) -> None:
    """Report what is installed and whether the data dir and database work."""
    from sqlalchemy import text

    from cosflow.db.engine import make_engine
    from cosflow.media.ffmpeg import locate

    settings = _load(config, data_dir=data_dir)
    ok = True
    console.print(f"cosflow    {__version__} on Python {platform.python_version()} ({platform.platform()})")
    binary = locate()
    if binary is None:
        ok = False
        console.print("ffmpeg     [red]missing[/red] (install ffmpeg, or pip install imageio-ffmpeg)")
    else:
        console.print(f"ffmpeg     {binary.path} ({binary.source}) {binary.version}")
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        probe = settings.data_dir / ".doctor"
        probe.write_text("ok")
        probe.unlink()
        console.print(f"data dir   {settings.data_dir.resolve()} (writable)")
    except OSError as exc:
        ok = False
        console.print(f"data dir   [red]{settings.data_dir} not writable: {exc}[/red]")
    try:
        engine = make_engine(settings.effective_database_url)
        with engine.connect() as conn:
            version = conn.execute(
                text("select sqlite_version()" if engine.dialect.name == "sqlite" else "select version()")
            ).scalar()
        engine.dispose()
        console.print(f"database   {engine.dialect.name} {version} ({engine.url.render_as_string()})")
    except Exception as exc:  # any driver error is a finding to report
        ok = False
        console.print(f"database   [red]unreachable: {exc}[/red]")
    for name in ("starlette", "uvicorn", "sqlalchemy", "alembic", "aiohttp", "av"):
        from importlib.metadata import version as pkg_version

        console.print(f"{name:<10} {pkg_version(name)}")
    raise typer.Exit(0 if ok else 1)


callbacks_cli = typer.Typer(help="The callback delivery log, and a local receiver.")
cli.add_typer(callbacks_cli, name="callbacks")


def _callback_service(config: Path | None, data_dir: Path | None) -> CallbackService:
    from cosflow.db.engine import make_engine, migrate

    settings = _load(config, data_dir=data_dir)
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    return CallbackService(engine, wake=None)


def _time_option(name: str, text: str) -> datetime | None:
    if not text:
        return None
    try:
        return citimes.parse(text)
    except ValueError as exc:
        console.print(f"[red]{name}:[/red] not a time: {text!r} (e.g. 2024-05-08T11:05:09+0800)")
        raise typer.Exit(2) from exc


def _print_callback(c: Callback) -> None:
    when = c.delivered_at or c.next_attempt_at
    console.print(
        f"{c.callback_id}  {c.run_id}  #{c.seq} {c.event:<14} {c.state:<9} attempts={c.attempts} "
        f"{when:%Y-%m-%d %H:%M:%S}  {c.last_error}",
        markup=False,
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
    """List callbacks by run or state."""
    service = _callback_service(config, data_dir)
    try:
        found = service.search(run_id=run, state=state, since=_time_option("--since", since), limit=limit)
    except CosflowError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    for callback in found:
        _print_callback(callback)


@callbacks_cli.command("show")
def callbacks_show(callback_id: str, config: ConfigOpt = None, data_dir: DataOpt = None) -> None:
    """One callback, its body and every attempt."""
    try:
        callback, attempts = _callback_service(config, data_dir).show(callback_id)
    except CosflowError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    _print_callback(callback)
    console.print(f"POST {callback.url} ({callback.content_type})", markup=False)
    console.print(callback.body, markup=False)
    for attempt in attempts:
        console.print(
            f"  {attempt.attempted_at:%Y-%m-%d %H:%M:%S} status={attempt.status_code} {attempt.latency_ms} ms "
            f"{attempt.error} {attempt.response_body[:200]!r}",
            markup=False,
        )


@callbacks_cli.command("redeliver")
def callbacks_redeliver(
    callback_ids: Annotated[list[str] | None, typer.Argument(help="callback ids")] = None,
    failed_since: Annotated[str, typer.Option("--failed-since", help="every dead callback since (ISO time)")] = "",
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Put callbacks back in line (the running server delivers them)."""
    service = _callback_service(config, data_dir)
    if failed_since:
        since = _time_option("--failed-since", failed_since)
        assert since is not None  # failed_since is not empty
        count = service.redeliver_failed_since(since)
    elif callback_ids:
        count = service.redeliver(list(callback_ids))
    else:
        console.print("name callback ids or --failed-since")
        raise typer.Exit(2)
    console.print(f"redelivering {count} callback(s)")


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
