"""Roles user/moderator/admin: admin-only routes and moderator powers."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI

from snsfeed.admin import set_role_by_username
from tests.helpers import Account, Api

ADMIN_USERS = "/api/v1/admin/users"


async def make(api: Api, app: FastAPI, username: str, role: str) -> Account:
    account = await api.register(username)
    if role != "user":
        await set_role_by_username(app.state.settings, username, role)
    return account


async def test_admin_routes_are_401_for_anonymous(api: Api) -> None:
    target = await api.register("target")
    listing = await api.client.get(ADMIN_USERS)
    setting = await api.client.put(f"{ADMIN_USERS}/{target.id}/role", json={"role": "admin"})
    for r in (listing, setting):
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert r.json()["error"]["code"] == "authentication_required"


@pytest.mark.parametrize("role", ["user", "moderator"])
async def test_admin_routes_are_403_for_non_admins(api: Api, app: FastAPI, role: str) -> None:
    caller = await make(api, app, "caller", role)
    target = await api.register("target")
    listing = await api.client.get(ADMIN_USERS, headers=caller.headers)
    setting = await api.client.put(
        f"{ADMIN_USERS}/{target.id}/role", json={"role": "admin"}, headers=caller.headers
    )
    for r in (listing, setting):
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "forbidden"
    me = (await api.client.get("/api/v1/users/me", headers=target.headers)).json()
    assert me["role"] == "user"


async def test_role_from_the_cli_applies_to_an_existing_token(api: Api, app: FastAPI) -> None:
    root = await api.register("root")
    assert (await api.client.get(ADMIN_USERS, headers=root.headers)).status_code == 403
    await set_role_by_username(app.state.settings, "root", "admin")
    assert (await api.client.get(ADMIN_USERS, headers=root.headers)).status_code == 200
    me = (await api.client.get("/api/v1/users/me", headers=root.headers)).json()
    assert me["role"] == "admin"


async def test_cli_rejects_unknown_role_and_unknown_user(api: Api, app: FastAPI) -> None:
    await api.register("root")
    with pytest.raises(ValueError, match="unknown role"):
        await set_role_by_username(app.state.settings, "root", "superuser")
    with pytest.raises(ValueError, match="no active account"):
        await set_role_by_username(app.state.settings, "nobody", "admin")


async def test_admin_lists_users_with_private_fields(api: Api, app: FastAPI) -> None:
    admin = await make(api, app, "root", "admin")
    alice = await api.register("alice")
    r = await api.client.get(ADMIN_USERS, headers=admin.headers)
    assert r.status_code == 200, r.text
    by_id = {u["id"]: u for u in r.json()["items"]}
    assert by_id[alice.id]["email"] == "alice@example.org"
    assert by_id[alice.id]["role"] == "user"
    assert by_id[admin.id]["role"] == "admin"


async def test_admin_list_shows_deleted_accounts_as_deleted(api: Api, app: FastAPI) -> None:
    admin = await make(api, app, "root", "admin")
    alice = await api.register("alice")
    await api.client.delete("/api/v1/users/me", headers=alice.headers)
    items = (await api.client.get(ADMIN_USERS, headers=admin.headers)).json()["items"]
    assert next(u for u in items if u["id"] == alice.id)["deleted_at"] is not None


async def test_admin_list_pages_with_a_cursor(api: Api, app: FastAPI) -> None:
    admin = await make(api, app, "root", "admin")
    for i in range(4):
        await api.register(f"member_{i}")
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, str | int] = {"size": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await api.client.get(ADMIN_USERS, params=params, headers=admin.headers)).json()
        seen += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and len(set(seen)) == 5


@pytest.mark.parametrize("size", [0, 51, -1, "ten"])
async def test_admin_list_rejects_bad_page_size(api: Api, app: FastAPI, size: object) -> None:
    admin = await make(api, app, "root", "admin")
    r = await api.client.get(ADMIN_USERS, params={"size": size}, headers=admin.headers)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"


async def test_admin_sets_a_role(api: Api, app: FastAPI) -> None:
    admin = await make(api, app, "root", "admin")
    alice = await api.register("alice")
    r = await api.client.put(
        f"{ADMIN_USERS}/{alice.id}/role", json={"role": "moderator"}, headers=admin.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "moderator"
    me = (await api.client.get("/api/v1/users/me", headers=alice.headers)).json()
    assert me["role"] == "moderator"


@pytest.mark.parametrize("payload", [{"role": "superuser"}, {}, {"role": "admin", "x": 1}])
async def test_admin_set_role_rejects_bad_input(
    api: Api, app: FastAPI, payload: dict[str, object]
) -> None:
    admin = await make(api, app, "root", "admin")
    alice = await api.register("alice")
    r = await api.client.put(f"{ADMIN_USERS}/{alice.id}/role", json=payload, headers=admin.headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"


async def test_admin_set_role_of_unknown_user_is_404(api: Api, app: FastAPI) -> None:
    admin = await make(api, app, "root", "admin")
    r = await api.client.put(
        f"{ADMIN_USERS}/{uuid.uuid4()}/role", json={"role": "admin"}, headers=admin.headers
    )
    assert r.status_code == 404


async def test_moderator_can_delete_someone_elses_post(api: Api, app: FastAPI) -> None:
    mod = await make(api, app, "mod", "moderator")
    alice = await api.register("alice")
    post = await api.post(alice, "rule-breaking")
    r = await api.client.delete(f"/api/v1/content/{post['id']}", headers=mod.headers)
    assert r.status_code == 204, r.text
    assert (await api.client.get(f"/api/v1/content/{post['id']}")).status_code == 404


async def test_admin_can_delete_someone_elses_post(api: Api, app: FastAPI) -> None:
    admin = await make(api, app, "root", "admin")
    alice = await api.register("alice")
    post = await api.post(alice, "rule-breaking")
    r = await api.client.delete(f"/api/v1/content/{post['id']}", headers=admin.headers)
    assert r.status_code == 204, r.text


async def test_user_cannot_delete_someone_elses_post(api: Api) -> None:
    bob = await api.register("bob")
    alice = await api.register("alice")
    post = await api.post(alice, "mine")
    r = await api.client.delete(f"/api/v1/content/{post['id']}", headers=bob.headers)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert (await api.client.get(f"/api/v1/content/{post['id']}")).status_code == 200


async def test_demoted_moderator_loses_power_immediately(api: Api, app: FastAPI) -> None:
    mod = await make(api, app, "mod", "moderator")
    alice = await api.register("alice")
    post = await api.post(alice, "mine")
    await set_role_by_username(app.state.settings, "mod", "user")
    r = await api.client.delete(f"/api/v1/content/{post['id']}", headers=mod.headers)
    assert r.status_code == 403
