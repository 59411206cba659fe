"""The ``linktor`` command: serve, migrate, and operator tools.

Errors a person can fix (bad configuration, unreachable database) print one line and exit
non-zero; tracebacks only with ``--debug``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from typing import Annotated, Any, NoReturn

import typer

from linktor.server import __version__
from linktor.server.config import ConfigError, Settings, load_settings
from linktor.server.logs import configure_logging
from linktor.server.shared.errors import DomainError

app = typer.Typer(
    name="linktor",
    help="Linktor: open-source multichannel messaging platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"debug": False}


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"linktor: {message}", err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail(f"configuration error: {exc}", 2)
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _loop_runner(event_loop: str) -> Callable[[Any], object]:
    if event_loop != "asyncio":
        try:
            import uvloop
        except ImportError:
            if event_loop == "uvloop":
                _fail("LINKTOR_EVENT_LOOP=uvloop but uvloop is not installed", 2)
        else:
            return uvloop.run
    return asyncio.run


def _run(coro: object, *, event_loop: str = "asyncio") -> None:
    """Run a coroutine; turn known failures into one line. ``event_loop``: Settings.event_loop
    (the long-running commands use uvloop when it is there)."""
    try:
        _loop_runner(event_loop)(coro)
    except KeyboardInterrupt:
        pass
    except (DomainError, OSError, ConnectionError) as exc:
        if _state["debug"]:
            raise
        _fail(f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        if _state["debug"]:
            raise
        reason = str(exc).splitlines()[0] if str(exc) else ""
        _fail(f"{type(exc).__name__}: {reason} (run with --debug for details)")


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    _state["debug"] = debug


@app.command()
def serve(
    banner: Annotated[
        bool, typer.Option("--banner", help="Print addresses and a first step when ready.")
    ] = False,
) -> None:
    """Run the whole platform in one process (gRPC, HTTP, workers)."""
    settings = _settings()  # validate before the slow imports: config errors are instant
    from linktor.server.runtime import Platform
    from linktor.server.runtime import serve as run_serve

    def announce(platform: Platform) -> None:
        if banner:
            _print_banner(platform)

    _run(run_serve(settings, on_ready=announce), event_loop=settings.event_loop)


@app.command()
def worker() -> None:
    """Run only the background work (outbox relay, delivery and inbound workers, sweepers),
    for scaling it out beside `linktor serve` replicas started with LINKTOR_WORKERS=false."""
    settings = _settings()
    from linktor.server.workers import run_workers

    _run(run_workers(settings), event_loop=settings.event_loop)


@app.command()
def migrate() -> None:
    """Apply database migrations (idempotent)."""
    from linktor.server.infra.db import migrate as migrations
    from linktor.server.infra.db.engine import create_engine

    settings = _settings()

    async def run() -> None:
        engine = create_engine(settings.effective_database_url)
        try:
            await migrations.upgrade(engine)
            typer.echo(f"database at revision {await migrations.current_revision(engine)}")
        finally:
            await engine.dispose()

    _run(run())


tenant_app = typer.Typer(help="Tenants (server-side operator tools).", no_args_is_help=True)
operator_app = typer.Typer(help="Platform operators.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(operator_app, name="operator")
user_app = typer.Typer(help="A tenant's users (as a platform operator).", no_args_is_help=True)
app.add_typer(user_app, name="user")


async def _with_identity(settings: Settings, action: Any) -> Any:
    """Run ``action(identity)`` against the configured database (migrated first on SQLite)."""
    from linktor.server.identity.module import build_identity
    from linktor.server.infra.cache.factory import create_rate_limiter
    from linktor.server.infra.db import migrate as migrations
    from linktor.server.infra.db.engine import create_engine
    from linktor.server.shared.clock import SystemClock

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.effective_database_url)
    try:
        if settings.should_migrate_on_start:
            await migrations.upgrade(engine)
        identity = build_identity(
            settings, engine, create_rate_limiter(settings.redis_url), SystemClock()
        )
        return await action(identity)
    finally:
        await engine.dispose()


@tenant_app.command("create")
def tenant_create(
    name: Annotated[str, typer.Option("--name", help="The business's display name.")],
    owner_email: Annotated[str, typer.Option("--owner-email", help="The first owner's email.")],
    owner_password: Annotated[
        str,
        typer.Option(
            "--owner-password",
            help="Their password (12+ characters); without it the owner is INVITED.",
            envvar="LINKTOR_OWNER_PASSWORD",
        ),
    ] = "",
    tenant_id: Annotated[
        str, typer.Option("--id", help="The tenant id; generated from the name when empty.")
    ] = "",
    plan: Annotated[
        str, typer.Option("--plan", help="A plan id; default LINKTOR_DEFAULT_PLAN.")
    ] = "",
) -> None:
    """Create a tenant with its owner and a first API key; print them as ONE JSON object.

    The API key secret is shown only here: store it now.
    """
    settings = _settings()

    async def run(identity: Any) -> None:
        made = await identity.tenants.bootstrap(
            display_name=name,
            owner_email=owner_email,
            owner_password=owner_password,
            tenant_id=tenant_id,
            plan=plan,
        )
        typer.echo(
            json.dumps(
                {
                    "tenant": made.tenant.name,
                    "display_name": made.tenant.display_name,
                    "plan": made.tenant.plan,
                    "owner": {
                        "name": made.owner.name,
                        "email": made.owner.email,
                        "role": made.owner.role.value,
                        "state": made.owner.state.value,
                    },
                    "api_key": {
                        "name": made.api_key.key.name,
                        "prefix": made.api_key.key.prefix,
                        "scopes": sorted(made.api_key.key.scopes),
                        "secret": made.api_key.secret,
                    },
                }
            )
        )

    _run(_with_identity(settings, run))


@operator_app.command("create-key")
def operator_create_key(
    name: Annotated[str, typer.Option("--name", help="Who holds the key, e.g. an email.")],
) -> None:
    """Create a platform operator key (tenant APIs: create, list, suspend ...); print ONE
    JSON object with its secret, shown only here."""
    settings = _settings()

    async def run(identity: Any) -> None:
        issued = await identity.operators.create_key(name)
        typer.echo(
            json.dumps(
                {
                    "operator_key": issued.key.prefix,
                    "name": issued.key.display_name,
                    "secret": issued.secret,
                }
            )
        )

    _run(_with_identity(settings, run))


def _operator_key_json(key: Any) -> dict[str, Any]:
    return {
        "operator_key": key.prefix,
        "name": key.display_name,
        "create_time": key.create_time.isoformat(),
        "revoke_time": key.revoke_time.isoformat() if key.revoke_time else None,
    }


@operator_app.command("list-keys")
def operator_list_keys() -> None:
    """List the platform operator keys (prefix, holder, created, revoked), one JSON object
    per line; secrets are never stored, so never shown."""
    settings = _settings()

    async def run(identity: Any) -> None:
        for key in await identity.operators.list_keys():
            typer.echo(json.dumps(_operator_key_json(key)))

    _run(_with_identity(settings, run))


@operator_app.command("revoke-key")
def operator_revoke_key(
    prefix: Annotated[str, typer.Argument(help="The key's prefix (lko_...), from list-keys.")],
) -> None:
    """Revoke a platform operator key; print it as JSON. Idempotent."""
    settings = _settings()

    async def run(identity: Any) -> None:
        key = await identity.operators.revoke_key(prefix)
        typer.echo(json.dumps(_operator_key_json(key)))

    _run(_with_identity(settings, run))


@user_app.command("password-setup")
def user_password_setup(
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant id (or tenants/{id}).")],
    email: Annotated[str, typer.Option("--email", help="The user's login email.")],
) -> None:
    """Issue a one-time password setup token for a user (an INVITED owner, or a person of
    several tenants who forgot their password); print ONE JSON object with the token, shown
    only here. The person sets their password with AuthService.SetPassword."""
    settings = _settings()

    async def run(identity: Any) -> None:
        from linktor.server.identity.domain.user import normalize_email
        from linktor.server.shared.principal import Principal

        tenant_id = tenant.removeprefix("tenants/")
        async with identity.store.privileged() as uow:
            user = await uow.users.get_by_email(normalize_email(email, "email"))
        if user is None:
            _fail(f"no user with email {email}")
        operator = Principal(tenant_id=None, platform_operator=True)
        issued = await identity.passwords.issue(operator, tenant_id, user.id)
        typer.echo(
            json.dumps(
                {
                    "user": issued.member.name,
                    "email": issued.member.email,
                    "token": issued.token,
                    "expire_time": issued.expire_time.isoformat(),
                }
            )
        )

    _run(_with_identity(settings, run))


@app.command("adapter-conformance")
def adapter_conformance(
    command: Annotated[list[str], typer.Argument(help="The adapter command, after --.")],
    config: Annotated[str, typer.Option(help="Channel config for sends (JSON object).")] = "{}",
    secrets: Annotated[str, typer.Option(help="Channel secrets (JSON object).")] = "{}",
    recipient: Annotated[str, typer.Option(help="Recipient address for sends.")] = "+15550100",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check a channel adapter against the plugin contract: linktor adapter-conformance -- CMD."""
    from linktor.adapterkit.conformance import main as conformance

    options = ["--config", config, "--secrets", secrets, "--recipient", recipient]
    raise typer.Exit(conformance([*options, *(["--json"] if as_json else []), "--", *command]))


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def _print_banner(platform: object) -> None:
    from linktor.server.runtime import Platform

    assert isinstance(platform, Platform)
    host = platform.settings.grpc_addr.rpartition(":")[0]
    grpc = f"{host}:{platform.grpc_port}"
    http = f"http://{host}:{platform.http_port}"
    mode = "embedded" if platform.settings.embedded else "scaled"
    lines = [
        "",
        f"Linktor {__version__} is running ({mode} mode).",
        f"  gRPC   {grpc}   (grpcurl -plaintext {grpc} list)",
        f"  HTTP   {http}   (REST under /v1, API docs at /docs, /healthz, /readyz)",
        f"  data   {platform.settings.data_dir.resolve()}",
        "",
        "Send a first message (in another terminal, from this directory):",
        "  1. .venv/bin/linktor tenant create --name Demo --owner-email you@example.com",
        '     prints one JSON object; keep its "api_key" "secret" (lk_...)',
        f"  2. .venv/bin/msgfy login --address {grpc} --api-key lk_...",
        '  3. .venv/bin/msgfy channels add --type webchat --name "Website chat"',
        "     the channel's webhook URL ends with its public KEY",
        f"  4. open {http}/webchat/KEY/try and write to yourself as a visitor",
        "  5. .venv/bin/msgfy conversations list",
        '     .venv/bin/msgfy send --conversation ID --text "Hello from Linktor"',
        "",
        "Stop with Ctrl-C. More: docs/getting-started.md",
        "",
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
