"""The OAuth2 token endpoint (RFC 6749) with the password grant, and the access-token JWT."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI

from snsfeed.platform.security import TokenSigner, load_signing_key
from tests.helpers import Api

TOKEN = "/api/v1/auth/token"


def assert_oauth_error(r: httpx.Response, error: str) -> None:
    """RFC 6749 §5.2: 400, ``{error, error_description}``, never cached."""
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == error
    assert isinstance(body["error_description"], str) and body["error_description"]
    assert r.headers["Cache-Control"] == "no-store"


async def password_grant(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        TOKEN, data={"grant_type": "password", "username": username, "password": password}
    )


async def test_password_grant_with_username_issues_tokens(api: Api) -> None:
    alice = await api.register("alice")
    r = await password_grant(api.client, "alice", alice.password)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Pragma"] == "no-cache"
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["access_token"] and body["refresh_token"]
    assert body["access_token"] != body["refresh_token"]
    me = await api.client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == alice.id


@pytest.mark.parametrize("login", ["alice@example.org", "ALICE@Example.org", "ALICE", " alice "])
async def test_password_grant_accepts_username_or_email_in_any_case(api: Api, login: str) -> None:
    alice = await api.register("alice")
    r = await password_grant(api.client, login, alice.password)
    assert r.status_code == 200, r.text


async def test_password_grant_wrong_password_is_invalid_grant(api: Api) -> None:
    await api.register("alice")
    r = await password_grant(api.client, "alice", "wrong password")
    assert_oauth_error(r, "invalid_grant")


async def test_password_grant_unknown_user_looks_like_wrong_password(api: Api) -> None:
    await api.register("alice")
    unknown = await password_grant(api.client, "nobody", "wrong password")
    wrong = await password_grant(api.client, "alice", "wrong password")
    assert_oauth_error(unknown, "invalid_grant")
    assert unknown.json() == wrong.json()


async def test_password_is_case_sensitive(api: Api) -> None:
    alice = await api.register("alice", password="Correct Horse 1")
    r = await password_grant(api.client, "alice", alice.password.lower())
    assert_oauth_error(r, "invalid_grant")


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"username": "alice", "password": "correct horse 1"},
        {"grant_type": "password"},
        {"grant_type": "password", "username": "alice"},
        {"grant_type": "password", "password": "correct horse 1"},
        {"grant_type": "refresh_token"},
    ],
)
async def test_token_missing_parameters_is_invalid_request(api: Api, form: dict[str, str]) -> None:
    await api.register("alice")
    r = await api.client.post(TOKEN, data=form)
    assert_oauth_error(r, "invalid_request")


async def test_token_overlong_client_id_is_invalid_request(api: Api) -> None:
    alice = await api.register("alice")
    r = await api.client.post(
        TOKEN,
        data={
            "grant_type": "password",
            "username": "alice",
            "password": alice.password,
            "client_id": "c" * 101,
        },
    )
    assert_oauth_error(r, "invalid_request")


async def test_token_accepts_a_client_id(api: Api) -> None:
    alice = await api.register("alice")
    r = await api.client.post(
        TOKEN,
        data={
            "grant_type": "password",
            "username": "alice",
            "password": alice.password,
            "client_id": "c" * 100,
        },
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("grant_type", ["client_credentials", "authorization_code", "bogus"])
async def test_token_unknown_grant_is_unsupported_grant_type(
    client: httpx.AsyncClient, grant_type: str
) -> None:
    r = await client.post(TOKEN, data={"grant_type": grant_type})
    assert_oauth_error(r, "unsupported_grant_type")


async def test_token_with_json_body_is_a_client_error(api: Api) -> None:
    alice = await api.register("alice")
    r = await api.client.post(
        TOKEN, json={"grant_type": "password", "username": "alice", "password": alice.password}
    )
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["error"] == "invalid_request"


async def test_token_with_garbage_body_is_a_client_error(client: httpx.AsyncClient) -> None:
    r = await client.post(
        TOKEN,
        content=b"\xff\xfe\x00garbage=%%%",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= r.status_code < 500, r.text


async def test_token_endpoint_rejects_get(client: httpx.AsyncClient) -> None:
    r = await client.get(TOKEN)
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"


async def test_access_token_is_es256_with_kid_from_jwks(api: Api) -> None:
    alice = await api.register("alice")
    header = jwt.get_unverified_header(alice.access_token)
    assert header["alg"] == "ES256"
    jwks = (await api.client.get("/.well-known/jwks.json")).json()
    keys = {k["kid"]: k for k in jwks["keys"]}
    assert header["kid"] in keys
    assert "d" not in keys[header["kid"]]  # never publish the private part


async def test_access_token_verifies_with_the_published_jwk(api: Api) -> None:
    alice = await api.register("alice")
    kid = jwt.get_unverified_header(alice.access_token)["kid"]
    jwks = (await api.client.get("/.well-known/jwks.json")).json()
    jwk = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
    claims = jwt.decode(alice.access_token, jwk.key, algorithms=["ES256"])
    assert claims["sub"] == alice.id
    assert claims["exp"] - claims["iat"] == 900
    assert claims["role"] == "user"
    uuid.UUID(claims["sid"])


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_refresh_token_used_as_bearer_is_401(api: Api) -> None:
    alice = await api.register("alice")
    r = await api.client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {alice.refresh_token}"}
    )
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_token"


async def test_access_token_used_as_refresh_token_is_invalid_grant(api: Api) -> None:
    alice = await api.register("alice")
    r = await api.client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": alice.access_token}
    )
    assert_oauth_error(r, "invalid_grant")


async def test_unsigned_token_is_401(api: Api) -> None:
    alice = await api.register("alice")
    _, payload, _ = alice.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "==="))
    kid = jwt.get_unverified_header(alice.access_token)["kid"]
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(claims)}."
    r = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401


async def test_token_signed_by_another_key_with_our_kid_is_401(api: Api) -> None:
    alice = await api.register("alice")
    claims = jwt.decode(alice.access_token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(alice.access_token)["kid"]
    claims["role"] = "admin"
    forged = jwt.encode(
        claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": kid}
    )
    r = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401


async def test_tampered_claims_are_401(api: Api) -> None:
    alice = await api.register("alice")
    bob = await api.register("bob")
    header, payload, signature = alice.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "==="))
    claims["sub"] = bob.id
    forged = f"{header}.{_b64(claims)}.{signature}"
    r = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401


def _signer(app: FastAPI, **overrides: object) -> TokenSigner:
    """A signer with the app's own key but other settings (e.g. an already expired TTL)."""
    settings = app.state.settings.model_copy(update=overrides)
    return TokenSigner(load_signing_key(settings), settings)


async def test_expired_access_token_is_401(api: Api, app: FastAPI) -> None:
    alice = await api.register("alice")
    sid = jwt.decode(alice.access_token, options={"verify_signature": False})["sid"]
    expired = _signer(app, access_token_ttl_seconds=-60).issue(
        subject=alice.id, session_id=sid, role="user"
    )
    r = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_token"


async def test_token_from_another_issuer_is_401(api: Api, app: FastAPI) -> None:
    alice = await api.register("alice")
    sid = jwt.decode(alice.access_token, options={"verify_signature": False})["sid"]
    foreign = _signer(app, jwt_issuer="someone-else").issue(
        subject=alice.id, session_id=sid, role="user"
    )
    r = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {foreign}"})
    assert r.status_code == 401


async def test_validly_signed_token_for_an_unknown_session_is_401(api: Api, app: FastAPI) -> None:
    alice = await api.register("alice")
    token = _signer(app).issue(subject=alice.id, session_id=str(uuid.uuid4()), role="admin")
    r = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


async def test_another_users_session_id_in_a_token_is_401(api: Api, app: FastAPI) -> None:
    alice = await api.register("alice")
    bob = await api.register("bob")
    bobs_sid = jwt.decode(bob.access_token, options={"verify_signature": False})["sid"]
    token = _signer(app).issue(subject=alice.id, session_id=bobs_sid, role="user")
    r = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


async def test_jwks_is_public_and_well_formed(client: httpx.AsyncClient) -> None:
    r = await client.get("/.well-known/jwks.json")
    assert r.status_code == 200
    (key,) = r.json()["keys"]
    assert key["kty"] == "EC" and key["crv"] == "P-256" and key["alg"] == "ES256"
    assert key["use"] == "sig"
    assert jwt.PyJWK(key).algorithm_name == "ES256"
