"""Command line: serve, migrate, keygen, demo, admin."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from snsfeed.config import Settings

if TYPE_CHECKING:
    from snsfeed.demo import DemoSummary

app = typer.Typer(help="snsfeed: an open SNS feed backend.", no_args_is_help=True)
admin_app = typer.Typer(help="Administrative tasks.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
dlq_app = typer.Typer(help="Events that consumers gave up on (dead letters).", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
media_app = typer.Typer(help="Media files and uploads.", no_args_is_help=True)
app.add_typer(media_app, name="media")
console = Console()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development)")] = False,
) -> None:
    """Start the HTTP API. In embedded mode (no SNSFEED_DATABASE_URL) migrations run first."""
    import uvicorn

    from snsfeed.platform.security import KeyConfigError, load_signing_key

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        load_signing_key(settings)
    except KeyConfigError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    bind_host = host or settings.host
    bind_port = port or settings.port
    mode = "embedded (SQLite)" if settings.embedded else "services"
    console.print(
        f"snsfeed on http://{bind_host}:{bind_port}  [dim]mode: {mode}; data: "
        f"{settings.data_dir.resolve()}; API docs: http://{bind_host}:{bind_port}/docs[/dim]"
    )
    uvicorn.run(
        "snsfeed.app:create_app",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=workers,
        reload=reload,
        log_level="warning",
    )


@app.command()
def migrate() -> None:
    """Apply database migrations (needed outside embedded mode before `serve`)."""
    from snsfeed.platform.migrations import upgrade_to_head

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.resolved_database_url)
    console.print("[green]database is at the latest migration[/green]")


@app.command()
def keygen(
    path: Annotated[Path, typer.Argument(help="Where to write the PEM private key")],
) -> None:
    """Write a new ES256 (P-256) signing key for access tokens."""
    from snsfeed.platform.security import write_new_key

    if path.exists():
        console.print(f"[red]error:[/red] {path} exists; refusing to overwrite a key")
        raise typer.Exit(2)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_new_key(path)
    console.print(f"wrote {path} (set SNSFEED_JWT_KEY_FILE={path})")


@app.command()
def demo(
    users: Annotated[int, typer.Option(min=2, max=100_000, help="How many accounts")] = 300,
    posts: Annotated[int, typer.Option(min=0, help="How many posts")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same network)")] = 7,
    password: Annotated[str, typer.Option(help="Password of every demo account")] = "demo-password",
    force: Annotated[
        bool, typer.Option(help="Add another demo network even if one is already there")
    ] = False,
) -> None:
    """Fill the instance with a living demo network: users, follows, posts, likes, comments."""
    from snsfeed.demo import DemoError, fill_demo

    settings = Settings()
    try:
        summary = asyncio.run(
            fill_demo(
                settings,
                users=users,
                posts=posts,
                seed=seed,
                password=password,
                force=force,
                console=console,
            )
        )
    except DemoError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    _print_demo_login(settings, summary)


def _print_demo_login(settings: Settings, summary: DemoSummary) -> None:
    base = f"http://{settings.host}:{settings.port}"
    console.print(
        f"[green]demo network ready[/green] in {summary.seconds:.1f} s: "
        f"{len(summary.usernames)} accounts, {summary.follows} follows, {summary.posts} posts, "
        f"{summary.likes} likes, {summary.comments} comments, "
        f"{summary.blocks} blocks, {summary.mutes} mutes"
    )
    console.print(
        f"Log in as [bold]{summary.login_username}[/bold] with password "
        f"[bold]{summary.password}[/bold] (every demo account has this password).\n"
        "Start the server with `uv run snsfeed serve`, then:",
        highlight=False,
    )
    token = (
        f"TOKEN=$(curl -s {base}/api/v1/auth/token -d grant_type=password "
        f"-d username={summary.login_username} -d {shlex.quote('password=' + summary.password)} "
        "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')"
    )
    feed = f'curl -s "{base}/api/v1/feed?size=5" -H "Authorization: Bearer $TOKEN"'
    console.print(f"  {token}\n  {feed}", highlight=False, markup=False, soft_wrap=True)


@app.command()
def worker(
    consumer: Annotated[
        list[str] | None,
        typer.Option("--consumer", "-c", help="Consumer group to run (repeat; default: all)"),
    ] = None,
    relay: Annotated[
        bool, typer.Option(help="Also relay outbox rows to the broker (safe to run anywhere)")
    ] = True,
) -> None:
    """Run event consumers (timelines fan-out …) until SIGTERM; scale by starting more."""
    from snsfeed.platform.bus.consumer import registered_consumers, runnable_consumers
    from snsfeed.worker import run_worker

    settings = Settings()
    try:
        specs = runnable_consumers(settings, consumer)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    skipped = sorted(set(consumer or registered_consumers()) - {s.name for s in specs})
    if skipped:
        console.print(
            f"[yellow]not running (needs SNSFEED_REDIS_URL):[/yellow] {', '.join(skipped)}"
        )
    if not specs and not (relay and settings.broker_url):
        console.print("[red]error:[/red] nothing to run with this configuration")
        raise typer.Exit(2)
    bus = f"JetStream {settings.broker_url}" if settings.broker_url else "SQL outbox log"
    console.print(f"worker: consumers {', '.join(s.name for s in specs) or '-'}; bus {bus}")
    asyncio.run(run_worker(settings, [s.name for s in specs], relay=relay))


@media_app.command("cleanup")
def media_cleanup(
    grace_seconds: Annotated[
        float | None,
        typer.Option(help="Age at which unattached uploads go (default SNSFEED_MEDIA_ORPHAN_…)"),
    ] = None,
) -> None:
    """Delete files of deleted posts' media and of uploads never attached (run from cron)."""
    from snsfeed.media.jobs import run_cleanup

    settings = Settings()
    if grace_seconds is not None:
        settings.media_orphan_grace_seconds = grace_seconds
    removed = asyncio.run(run_cleanup(settings))
    console.print(f"removed {removed} media item(s) and their files")


@dlq_app.command("list")
def dlq_list(
    consumer: Annotated[str | None, typer.Option(help="Only this consumer group")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include replayed ones")] = False,
) -> None:
    """List dead letters: events a consumer failed on after every retry."""
    from rich.table import Table

    from snsfeed.worker import list_dead_letters

    letters = asyncio.run(list_dead_letters(Settings(), consumer, all_))
    table = Table("id", "consumer", "event", "attempts", "when", "error", "replayed")
    for d in letters:
        table.add_row(
            str(d.id),
            d.consumer,
            f"{d.event_type} {d.event_id}",
            str(d.attempts),
            d.created_at.isoformat(timespec="seconds"),
            d.error.splitlines()[-1][:80],
            d.replayed_at.isoformat(timespec="seconds") if d.replayed_at else "",
        )
    console.print(table if letters else "no dead letters")


@dlq_app.command("replay")
def dlq_replay(
    ids: Annotated[list[str] | None, typer.Argument(help="Dead-letter ids (default: all)")] = None,
) -> None:
    """Run the consumer again for dead letters; successful ones are marked replayed."""
    import uuid

    from snsfeed.worker import replay_dead_letters

    try:
        wanted = [uuid.UUID(i) for i in ids] if ids else None
    except ValueError as exc:
        console.print(f"[red]error:[/red] not a dead-letter id: {exc}")
        raise typer.Exit(2) from exc
    outcomes = asyncio.run(replay_dead_letters(Settings(), wanted))
    for letter_id, outcome in outcomes:
        console.print(f"{letter_id}: {outcome}")
    if not outcomes:
        console.print("nothing to replay")
    if any(outcome != "replayed" for _, outcome in outcomes):
        raise typer.Exit(1)


@admin_app.command("set-role")
def set_role(
    username: Annotated[str, typer.Argument(help="Account to change")],
    role: Annotated[str, typer.Argument(help="user | moderator | admin")],
) -> None:
    """Give an account a role (bootstrap the first admin)."""
    from snsfeed.admin import set_role_by_username

    settings = Settings()
    try:
        asyncio.run(set_role_by_username(settings, username, role))
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    console.print(f"{username} is now {role}")


if __name__ == "__main__":  # pragma: no cover
    app()
