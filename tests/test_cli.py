"""The `snsfeed` command line, run in-process with typer's CliRunner on a temporary data dir."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from snsfeed.cli import app
from snsfeed.config import Settings
from snsfeed.platform.security import load_signing_key


@pytest.fixture
def run(tmp_path: Path) -> CliRunner:
    """A runner whose environment points every SNSFEED_* path at a fresh folder."""
    return CliRunner(
        env={
            "SNSFEED_DATA_DIR": str(tmp_path / "data"),
            "SNSFEED_DATABASE_URL": None,
            "SNSFEED_JWT_KEY_FILE": None,
            "SNSFEED_REDIS_URL": None,
            "SNSFEED_BROKER_URL": None,
            # Production argon2 cost is fine here: the demo hashes its password once.
        }
    )


def test_help_lists_every_command(run: CliRunner) -> None:
    result = run.invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    for command in ("serve", "migrate", "keygen", "demo", "admin"):
        assert command in result.output


def test_keygen_writes_a_usable_p256_key(run: CliRunner, tmp_path: Path) -> None:
    key = tmp_path / "keys" / "jwt.pem"
    result = run.invoke(app, ["keygen", str(key)])
    assert result.exit_code == 0, result.output
    loaded = load_signing_key(Settings(data_dir=tmp_path, jwt_key_file=key))
    assert loaded.private_key.curve.name == "secp256r1"


def test_keygen_refuses_to_overwrite_an_existing_key(run: CliRunner, tmp_path: Path) -> None:
    key = tmp_path / "jwt.pem"
    key.write_text("precious")
    result = run.invoke(app, ["keygen", str(key)])
    assert result.exit_code == 2
    assert "refusing to overwrite" in result.output
    assert key.read_text() == "precious"


def test_migrate_creates_the_schema_in_the_data_dir(run: CliRunner, tmp_path: Path) -> None:
    result = run.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "data" / "snsfeed.db") as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    assert {"users", "content", "outbox"} <= tables
    assert version


def test_migrate_twice_is_harmless(run: CliRunner) -> None:
    assert run.invoke(app, ["migrate"]).exit_code == 0
    result = run.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output


def test_set_role_of_an_unknown_user_is_a_clear_error(run: CliRunner) -> None:
    assert run.invoke(app, ["migrate"]).exit_code == 0
    result = run.invoke(app, ["admin", "set-role", "nobody_here", "admin"])
    assert result.exit_code == 2
    assert "no active account named 'nobody_here'" in result.output


def test_set_role_to_an_unknown_role_is_a_clear_error(run: CliRunner) -> None:
    assert run.invoke(app, ["migrate"]).exit_code == 0
    result = run.invoke(app, ["admin", "set-role", "demo", "superuser"])
    assert result.exit_code == 2
    assert "unknown role" in result.output


def test_demo_prints_how_to_log_in_then_refuses_a_second_run(run: CliRunner) -> None:
    first = run.invoke(app, ["demo", "--users", "4", "--posts", "3"])
    assert first.exit_code == 0, first.output
    assert "username=demo" in first.output
    assert "/api/v1/feed" in first.output
    second = run.invoke(app, ["demo", "--users", "4", "--posts", "3"])
    assert second.exit_code == 1
    assert "already holds demo data" in second.output


def test_set_role_promotes_an_existing_account(run: CliRunner) -> None:
    assert run.invoke(app, ["demo", "--users", "2", "--posts", "0"]).exit_code == 0
    result = run.invoke(app, ["admin", "set-role", "demo", "moderator"])
    assert result.exit_code == 0, result.output
    assert "demo is now moderator" in result.output


def test_demo_rejects_a_short_password(run: CliRunner) -> None:
    result = run.invoke(app, ["demo", "--users", "2", "--posts", "0", "--password", "short"])
    assert result.exit_code == 1
    assert "at least 8 characters" in result.output


def test_media_cleanup_removes_an_orphaned_upload_and_its_file(
    run: CliRunner, tmp_path: Path
) -> None:
    import json
    import uuid

    assert run.invoke(app, ["migrate"]).exit_code == 0
    media_id = uuid.uuid4()
    key = f"{media_id}/large.webp"
    stored = tmp_path / "data" / "media" / key
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"RIFF....WEBP")
    variants = {"large": {"key": key, "url": f"/media/{key}", "width": 1, "height": 1}}
    with sqlite3.connect(tmp_path / "data" / "snsfeed.db") as db:
        db.execute(
            "INSERT INTO media (id, owner_id, kind, status, source_type, source_bytes, "
            "variants, position, created_at, updated_at) VALUES "
            "(?, ?, 'image', 'ready', 'image/webp', 12, ?, 0, "
            "'2020-01-01 00:00:00.000000', '2020-01-01 00:00:00.000000')",
            (media_id.hex, uuid.uuid4().hex, json.dumps(variants)),
        )
    result = run.invoke(app, ["media", "cleanup"])
    assert result.exit_code == 0, result.output
    assert "removed 1 media item(s)" in result.output
    assert not stored.exists()
    with sqlite3.connect(tmp_path / "data" / "snsfeed.db") as db:
        assert db.execute("SELECT count(*) FROM media").fetchone() == (0,)
