"""The command line: serve, keys, models. Parses flags into Settings; holds no logic."""

from __future__ import annotations

import calendar
import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gemgate.config import LocalModelSettings, Settings, load_settings

if TYPE_CHECKING:
    from gemgate.core.ports import ApiKeyRecord

app = typer.Typer(help="gemgate: a self-hosted Gemini API.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: create, list, revoke, rotate.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
db_app = typer.Typer(
    help="The database schema: upgrade, status, new revisions.", no_args_is_help=True
)
app.add_typer(db_app, name="db")

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="State directory (keys, caches, files).")
]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="TOML or JSON file of settings.", exists=True)
]


def _settings(config: Path | None, **flags: object) -> Settings:
    return load_settings(config, **flags)


def _with_model(settings: Settings, model: str | None) -> Settings:
    """--model takes a local model id, or a path to any GGUF file (which becomes the default)."""
    if model is None:
        return settings
    path = Path(model).expanduser()
    if path.suffix == ".gguf" or path.is_file():
        if not path.is_file():
            raise typer.BadParameter(f"model file not found: {path}", param_hint="--model")
        model_id = path.stem.lower()
        extra = LocalModelSettings(id=model_id, path=str(path.resolve()), display_name=path.name)
        models = [m for m in settings.models if m.id != model_id] + [extra]
        return settings.model_copy(update={"models": models, "default_model": model_id})
    if model not in {m.id for m in settings.models}:
        known = ", ".join(m.id for m in settings.models)
        raise typer.BadParameter(f"unknown model {model!r}; known: {known}", param_hint="--model")
    return settings.model_copy(update={"default_model": model})


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
    model: Annotated[
        str | None, typer.Option(help="Default model: a local model id or a GGUF path.")
    ] = None,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Serve without keys on a non-loopback address.")
    ] = False,
) -> None:
    """Run the API server."""
    import uvicorn

    from gemgate.app import build_key_service, create_app, is_loopback

    settings = _settings(config, host=host, port=port, data_dir=data_dir, no_auth=no_auth or None)
    settings = _with_model(settings, model)
    exposed = not is_loopback(settings.host) and not settings.no_auth
    if exposed and not build_key_service(settings).any_created():
        typer.echo(
            f"refusing to serve on {settings.host} with no API keys: create one with "
            "`gemgate keys create --project P` or pass --no-auth explicitly.",
            err=True,
        )
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs every call at INFO, including gemgate's own calls to the engine's listener.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The access line comes from api/timing.py once a response is sent, not as it starts.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
    )


@keys_app.command("create")
def keys_create(
    project: Annotated[str, typer.Option(help="Project the key acts for.")],
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    rpm: Annotated[int | None, typer.Option(help="Requests per minute.", min=1)] = None,
    tpm: Annotated[int | None, typer.Option(help="Tokens per minute.", min=1)] = None,
    daily_tokens: Annotated[
        int | None, typer.Option("--daily-tokens", help="Tokens per UTC day.", min=1)
    ] = None,
    budget: Annotated[
        float | None, typer.Option(help="Lifetime spend limit in USD.", min=0)
    ] = None,
    models: Annotated[
        str | None, typer.Option(help="Comma-separated model ids the key may use (default: all).")
    ] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Create a key; its secret is printed once and never stored."""
    from gemgate.app import build_key_service
    from gemgate.core.ports import KeyLimits

    allowed = tuple(m.strip() for m in (models or "").split(",") if m.strip())
    limits = KeyLimits(rpm, tpm, daily_tokens, budget, allowed)
    service = build_key_service(_settings(config, data_dir=data_dir))
    record, secret = service.create(project, name, limits)
    typer.echo(f"id:      {record.id}\nproject: {record.project}\nkey:     {secret}")
    typer.echo("Store the key now: it is kept only as a hash and cannot be shown again.", err=True)


@keys_app.command("rotate")
def keys_rotate(key_id: str, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Give a key a new secret (same id, project and limits); the old one stops working."""
    from gemgate.app import build_key_service

    rotated = build_key_service(_settings(config, data_dir=data_dir)).rotate(key_id)
    if rotated is None:
        typer.echo(f"no active key with id {key_id}", err=True)
        raise typer.Exit(1)
    record, secret = rotated
    typer.echo(f"id:      {record.id}\nproject: {record.project}\nkey:     {secret}")
    typer.echo("Store the key now: it is kept only as a hash and cannot be shown again.", err=True)


@keys_app.command("list")
def keys_list(
    data_dir: DataDir = None,
    config: ConfigFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List keys (never their secrets)."""
    from gemgate.app import build_key_service

    records = build_key_service(_settings(config, data_dir=data_dir)).list()
    rows = [_key_row(r) for r in records]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = "revoked" if row["revoked"] else "active"
        limits = {name: row[name] for name in _LIMITS if row[name]}
        text = " ".join(
            f"{name}={','.join(v) if isinstance(v, list) else v}" for name, v in limits.items()
        )
        typer.echo(
            f"{row['id']}  {row['project']}  {row['prefix']}…  {state}  {row['name']}  {text}"
        )


_LIMITS = ("rpm", "tpm", "daily_tokens", "budget_usd", "models")


def _key_row(record: ApiKeyRecord) -> dict[str, Any]:
    limits = record.limits
    return {
        "id": record.id,
        "project": record.project,
        "name": record.name,
        "prefix": record.prefix,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created_at)),
        "revoked": record.revoked_at is not None,
        "rpm": limits.rpm,
        "tpm": limits.tpm,
        "daily_tokens": limits.daily_tokens,
        "budget_usd": limits.budget_usd,
        "models": list(limits.models),
    }


@keys_app.command("revoke")
def keys_revoke(key_id: str, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Revoke a key by id; requests with it fail from then on."""
    from gemgate.app import build_key_service

    if not build_key_service(_settings(config, data_dir=data_dir)).revoke(key_id):
        typer.echo(f"no active key with id {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@app.command("usage")
def usage(
    by: Annotated[str, typer.Option(help="Group by key, model or day.")] = "key",
    since: Annotated[
        str | None, typer.Option(help="From this UTC date (YYYY-MM-DD) or Unix time on.")
    ] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A usage report from the ledger: requests, tokens and cost per key, model or day."""
    from gemgate.app import build_usage_store
    from gemgate.store.usage import GROUPS

    if by not in GROUPS:
        raise typer.BadParameter(f"one of {', '.join(GROUPS)}", param_hint="--by")
    store = build_usage_store(_settings(config, data_dir=data_dir))
    rows = store.summary(by, _since(since))
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(r) for r in rows], indent=2))
        return
    typer.echo(
        _USAGE_FORMAT.format(
            by, "requests", "errors", "prompt", "cached", "output", "thoughts", "cost_usd"
        )
    )
    for r in rows:
        typer.echo(
            _USAGE_FORMAT.format(
                r.group,
                r.requests,
                r.errors,
                r.prompt_tokens,
                r.cached_tokens,
                r.candidates_tokens,
                r.thoughts_tokens,
                f"{r.cost_usd:.6f}",
            )
        )


_USAGE_FORMAT = "{:<24} {:>9} {:>7} {:>10} {:>10} {:>10} {:>10} {:>12}"


def _since(value: str | None) -> float:
    if value is None:
        return 0.0
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return calendar.timegm(time.strptime(value, "%Y-%m-%d"))
    except ValueError as exc:
        raise typer.BadParameter("a date YYYY-MM-DD or a Unix time", param_hint="--since") from exc


@app.command("models")
def models(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """List the model ids this configuration serves and what answers each."""
    from gemgate.app import build_registry

    registry = build_registry(_settings(config, data_dir=data_dir))
    for info in registry.list_models():
        typer.echo(f"{info.id}\t{info.version}")


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Migrate the database to the newest revision (`serve` also does this at start)."""
    from gemgate.app import open_configured_database
    from gemgate.store.database import current_revision

    engine = open_configured_database(_settings(config, data_dir=data_dir))
    typer.echo(f"at revision {current_revision(engine)}")


@db_app.command("current")
def db_current(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Show the database's revision and the newest this gemgate knows, without migrating."""
    from gemgate.app import connect_configured_database
    from gemgate.store.database import current_revision, head_revision

    engine = connect_configured_database(_settings(config, data_dir=data_dir))
    typer.echo(f"current: {current_revision(engine)}\nhead:    {head_revision()}")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("-m", "--message", help="What the revision does.")],
) -> None:
    """Autogenerate the next revision from the models (in a source checkout; review it)."""
    import tempfile

    from gemgate.store.database import new_revision

    with tempfile.TemporaryDirectory() as scratch:
        typer.echo(f"wrote {new_revision(message, Path(scratch))}")


def main() -> None:
    from sqlalchemy.exc import OperationalError

    try:
        app()
    except OperationalError as error:
        # The database is down, unreachable or refuses us: say so in one line, not a traceback.
        typer.echo(f"cannot use the database: {error.orig or error}".strip(), err=True)
        raise SystemExit(2) from None
