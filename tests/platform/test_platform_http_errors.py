"""The one JSON error shape for routing, validation, parsing and cursor errors."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.helpers import Api


def assert_error_shape(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    error = r.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]


@pytest.mark.parametrize(
    "path", ["/nope", "/api/v1/nope", "/api/v2/users/me", "/api/v1/users/me/x"]
)
async def test_unknown_route_is_404_error_shape(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    assert_error_shape(r, 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/health"), ("DELETE", "/api/v1/users"), ("GET", "/api/v1/auth/revoke")],
)
async def test_wrong_method_is_405_error_shape_with_allow(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    r = await client.request(method, path)
    assert_error_shape(r, 405, "method_not_allowed")
    assert r.headers["Allow"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/users/not-a-uuid",
        "/api/v1/users/123",
        "/api/v1/content/zzz",
        "/api/v1/users/00000000-0000-0000-0000-00000000000g/content",
    ],
)
async def test_invalid_uuid_in_path_is_422(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    assert_error_shape(r, 422, "validation_error")
    assert r.json()["error"]["details"][0]["loc"][0] == "path"


@pytest.mark.parametrize("cursor", ["!!!", "abc", "AAAA", "😀", "%00"])
async def test_bad_cursor_is_400_invalid_cursor(api: Api, cursor: str) -> None:
    alice = await api.register("alice")
    r = await api.client.get(f"/api/v1/users/{alice.id}/content", params={"cursor": cursor})
    assert_error_shape(r, 400, "invalid_cursor")


async def test_empty_cursor_means_first_page(api: Api) -> None:
    alice = await api.register("alice")
    post = await api.post(alice)
    r = await api.client.get(f"/api/v1/users/{alice.id}/content", params={"cursor": ""})
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["items"]] == [post["id"]]


async def test_malformed_json_is_400_on_any_json_endpoint(api: Api) -> None:
    alice = await api.register("alice")
    r = await api.client.patch(
        "/api/v1/users/me",
        content=b"{bio: nope}",
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert_error_shape(r, 400, "malformed_json")


async def test_non_utf8_json_body_is_a_client_error(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/users",
        content=b'{"username": "\xff\xfe"}',
        headers={"Content-Type": "application/json"},
    )
    assert 400 <= r.status_code < 500, r.text
    assert "error" in r.json()


async def test_json_sent_as_text_plain_is_a_client_error(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/users",
        content=b'{"username": "alice", "email": "a@example.org", "password": "12345678"}',
        headers={"Content-Type": "text/plain"},
    )
    assert 400 <= r.status_code < 500, r.text
    assert "error" in r.json()


async def test_unknown_id_is_404_error_shape(client: httpx.AsyncClient) -> None:
    r = await client.get(f"/api/v1/content/{uuid.uuid4()}")
    assert_error_shape(r, 404, "not_found")


async def test_401_carries_www_authenticate_bearer(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/content", json={"text": "hi"})
    assert_error_shape(r, 401, "authentication_required")
    assert r.headers["WWW-Authenticate"] == "Bearer"
