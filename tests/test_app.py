"""The app factory: health and readiness, start-up key handling, API docs."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI

from snsfeed import __version__
from snsfeed.app import create_app
from snsfeed.config import Settings
from snsfeed.platform.security import KeyConfigError, load_signing_key
from tests.conftest import base_settings

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/does_not_matter"


async def test_health_is_200(client: httpx.AsyncClient) -> None:
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "version": __version__}


async def test_ready_reports_the_database(client: httpx.AsyncClient) -> None:
    r = await client.get("/ready")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_ready_is_503_when_the_database_is_down(tmp_path: Path) -> None:
    settings = base_settings(
        tmp_path, database_url="postgresql+asyncpg://postgres@127.0.0.1:1/nothing_here"
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            r = await c.get("/ready")
            health = await c.get("/health")
    assert r.status_code == 503
    assert r.json()["status"] == "unavailable"
    assert r.json()["checks"]["database"].startswith("error")
    assert health.status_code == 200


async def test_openapi_and_docs_are_served(client: httpx.AsyncClient) -> None:
    spec = await client.get("/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert "/api/v1/auth/token" in paths and "/api/v1/users" in paths
    assert (await client.get("/docs")).status_code == 200


def test_missing_key_outside_embedded_mode_fails_at_start_up(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "key.pem"
    settings = Settings(database_url=PG_URL, jwt_key_file=missing, data_dir=tmp_path)
    with pytest.raises(KeyConfigError) as info:
        create_app(settings)
    message = str(info.value)
    assert str(missing) in message
    assert "SNSFEED_JWT_KEY_FILE" in message
    assert not missing.exists()


def test_unset_key_outside_embedded_mode_fails_at_start_up(tmp_path: Path) -> None:
    settings = Settings(database_url=PG_URL, jwt_key_file=None, data_dir=tmp_path)
    with pytest.raises(KeyConfigError, match="SNSFEED_JWT_KEY_FILE"):
        create_app(settings)
    assert not (tmp_path / "jwt-signing-key.pem").exists()


def test_explicit_missing_key_fails_even_in_embedded_mode(tmp_path: Path) -> None:
    settings = Settings(jwt_key_file=tmp_path / "typo.pem", data_dir=tmp_path)
    with pytest.raises(KeyConfigError, match=r"typo\.pem"):
        create_app(settings)


def _kid(app: FastAPI) -> str:
    kid: str = app.state.signer.jwks["keys"][0]["kid"]
    return kid


def test_embedded_mode_generates_a_private_key_and_reuses_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    first = create_app(Settings(data_dir=data_dir))
    key_file = data_dir / "jwt-signing-key.pem"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    pem = key_file.read_bytes()
    second = create_app(Settings(data_dir=data_dir))
    assert key_file.read_bytes() == pem
    assert _kid(first) == _kid(second)


def test_workers_starting_together_share_one_generated_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    barrier = threading.Barrier(8)
    kids: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            kids.append(load_signing_key(settings).kid)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(kids) == 8 and len(set(kids)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["jwt-signing-key.pem"]


async def test_restarted_app_accepts_tokens_of_the_previous_start(tmp_path: Path) -> None:
    settings = base_settings(tmp_path, jwt_key_file=None)
    first = create_app(settings)
    token = first.state.signer.issue(subject="s", session_id="x", role="user")
    second = create_app(base_settings(tmp_path, jwt_key_file=None))
    assert second.state.signer.verify(token) is not None


def _write_pem(path: Path, pem: bytes) -> Path:
    path.write_bytes(pem)
    return path


@pytest.mark.parametrize(
    "make_pem",
    [
        pytest.param(lambda: b"not a pem at all", id="garbage"),
        pytest.param(
            lambda: rsa.generate_private_key(65537, 2048).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            id="rsa",
        ),
        pytest.param(
            lambda: ec.generate_private_key(ec.SECP384R1()).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            id="p384",
        ),
        pytest.param(
            lambda: ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"secret"),
            ),
            id="encrypted",
        ),
        pytest.param(
            lambda: (
                ec.generate_private_key(ec.SECP256R1())
                .public_key()
                .public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            ),
            id="public-only",
        ),
    ],
)
def test_unusable_key_file_fails_at_start_up(tmp_path: Path, make_pem: object) -> None:
    assert callable(make_pem)
    key = _write_pem(tmp_path / "key.pem", make_pem())
    with pytest.raises(KeyConfigError, match=r"key\.pem"):
        create_app(Settings(database_url=PG_URL, jwt_key_file=key, data_dir=tmp_path))
