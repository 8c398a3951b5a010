"""Authorization matrix: every resource-taking endpoint, tried as each kind of caller.

The world, built fresh for every case because many cases write (posts, comments and the
session id only when the endpoint refers to them):

* ``owner`` has a public, a followers-only and a private post, a comment on the public
  post, a comment on the followers-only post, and has blocked ``blocked``;
* ``follower`` follows the owner and commented on the owner's public post;
* ``stranger`` has no relationship with anybody;
* ``blocked`` followed the owner before being blocked (the block removed that follow) and
  has a public post of its own, so the block is also checked from the blocker's side;
* ``anonymous`` sends no token.

The product rules the table encodes:

* Anything that needs an account answers 401 to anonymous callers, before anything else.
* A block hides each side from the other as if the account did not exist: 404, never 403,
  so a blocked user cannot even learn that the block exists.
* A post the caller may not see is 404 on every path (read, edit, like, comment …), the
  same answer as for a post that does not exist.
* A post the caller may see but not change is 403 (editing or deleting someone else's post).
"""

from __future__ import annotations

import io
import string
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.helpers import Account, Api

ACTORS = ("owner", "follower", "stranger", "blocked", "anonymous")

# Paths are under /api/v1 and formatted with World.ids: {owner} {name} {blocked} {public}
# {followers} {private} {blocked_post} {owner_comment} {follower_comment} {hidden_comment}
# {session} {media} {notification} {subscription}. The five numbers are the expected statuses
# in ACTORS order.
# fmt: off
ROWS: list[tuple[str, str, str, int, int, int, int, int]] = [
    # name                      method    path                             own  fol  str  blk  anon
    # --- profiles and lists: public to everyone, except across a block ----------------------
    ("profile_get",             "GET",    "/users/{owner}",                200, 200, 200, 404, 200),
    ("profile_by_username_get", "GET",    "/users/by-username/{name}",     200, 200, 200, 404, 200),
    ("followers_list",          "GET",    "/users/{owner}/followers",      200, 200, 200, 404, 200),
    ("following_list",          "GET",    "/users/{owner}/following",      200, 200, 200, 404, 200),
    ("user_content_list",       "GET",    "/users/{owner}/content",        200, 200, 200, 404, 200),
    # The block seen from the blocker's side: the owner no longer sees the blocked user.
    ("blocked_profile_get",     "GET",    "/users/{blocked}",              404, 200, 200, 200, 200),
    ("blocked_content_list",    "GET",    "/users/{blocked}/content",      404, 200, 200, 200, 200),
    ("blocked_post_get",        "GET",    "/content/{blocked_post}",       404, 200, 200, 200, 200),
    # --- reading posts --------------------------------------------------------------------
    ("content_public_get",      "GET",    "/content/{public}",             200, 200, 200, 404, 200),
    ("content_followers_get",   "GET",    "/content/{followers}",          200, 200, 404, 404, 404),
    ("content_private_get",     "GET",    "/content/{private}",            200, 404, 404, 404, 404),
    # --- writing posts: 403 only when the caller can see the post, 404 otherwise ----------
    # Being blocked by someone does not stop you from posting.
    ("content_create",          "POST",   "/content",                      201, 201, 201, 201, 401),
    ("content_public_patch",    "PATCH",  "/content/{public}",             200, 403, 403, 404, 401),
    ("content_followers_patch", "PATCH",  "/content/{followers}",          200, 403, 404, 404, 401),
    ("content_private_patch",   "PATCH",  "/content/{private}",            200, 404, 404, 404, 401),
    ("content_public_delete",   "DELETE", "/content/{public}",             204, 403, 403, 404, 401),
    ("content_followers_delete", "DELETE", "/content/{followers}",         204, 403, 404, 404, 401),
    ("content_private_delete",  "DELETE", "/content/{private}",            204, 404, 404, 404, 401),
    # --- likes: anyone who can see the post may like it, its author included -------------
    ("like_public",             "POST",   "/content/{public}/like",        200, 200, 200, 404, 401),
    ("like_followers",          "POST",   "/content/{followers}/like",     200, 200, 404, 404, 401),
    ("like_private",            "POST",   "/content/{private}/like",       200, 404, 404, 404, 401),
    # Unlike is idempotent (204 without a like), but still 404 on a post one cannot see.
    ("unlike_public",           "DELETE", "/content/{public}/like",        204, 204, 204, 404, 401),
    ("unlike_followers",        "DELETE", "/content/{followers}/like",     204, 204, 404, 404, 401),
    ("unlike_private",          "DELETE", "/content/{private}/like",       204, 404, 404, 404, 401),
    # --- comments -------------------------------------------------------------------------
    ("comment_public",          "POST",   "/content/{public}/comment",     201, 201, 201, 404, 401),
    ("comment_followers",       "POST",   "/content/{followers}/comment",  201, 201, 404, 404, 401),
    ("comment_private",         "POST",   "/content/{private}/comment",    201, 404, 404, 404, 401),
    # Reading comments follows the post's visibility, anonymous callers included.
    ("comments_public_list",    "GET",    "/content/{public}/comments",    200, 200, 200, 404, 200),
    ("comments_followers_list", "GET",    "/content/{followers}/comments", 200, 200, 404, 404, 404),
    ("comments_private_list",   "GET",    "/content/{private}/comments",   200, 404, 404, 404, 404),
    # The owner's comment: only the owner may remove it; others who can see it get 403.
    ("comment_owner_delete",    "DELETE", "/comments/{owner_comment}",     204, 403, 403, 404, 401),
    # The follower's comment on the owner's post: its author, and the post's author
    # moderating their own thread, may remove it.
    ("comment_follower_delete", "DELETE", "/comments/{follower_comment}",  204, 204, 403, 404, 401),
    # A comment on the followers-only post: the stranger cannot see the post, so 404.
    ("comment_hidden_delete",   "DELETE", "/comments/{hidden_comment}",    204, 403, 404, 404, 401),
    # --- shares: only public posts can be reposted (403 not_shareable otherwise) ----------
    # Reposting one's own public post is allowed, as on Twitter and Mastodon.
    ("share_public",            "POST",   "/content/{public}/share",       201, 201, 201, 404, 401),
    # Owner and follower can see the followers-only post but not repost it: 403.
    ("share_followers",         "POST",   "/content/{followers}/share",    403, 403, 404, 404, 401),
    ("share_private",           "POST",   "/content/{private}/share",      403, 404, 404, 404, 401),
    ("unshare_public",          "DELETE", "/content/{public}/share",       204, 204, 204, 404, 401),
    ("unshare_followers",       "DELETE", "/content/{followers}/share",    204, 204, 404, 404, 401),
    ("unshare_private",         "DELETE", "/content/{private}/share",      204, 404, 404, 404, 401),
    # --- the graph, aimed at the owner: 400 when aimed at oneself --------------------------
    # Following is idempotent, so the follower gets 200 again. For the blocked user the
    # owner does not exist: 404, for follow, unfollow, mute and unmute alike.
    ("follow",                  "POST",   "/users/{owner}/follow",         400, 200, 200, 404, 401),
    ("unfollow",                "DELETE", "/users/{owner}/follow",         400, 204, 204, 404, 401),
    # The one exception: a blocked user may block back (and lift that block), so they
    # stay protected if the owner unblocks them later.
    ("block",                   "POST",   "/users/{owner}/block",          400, 200, 200, 200, 401),
    ("unblock",                 "DELETE", "/users/{owner}/block",          400, 204, 204, 204, 401),
    ("mute",                    "POST",   "/users/{owner}/mute",           400, 200, 200, 404, 401),
    ("unmute",                  "DELETE", "/users/{owner}/mute",           400, 204, 204, 404, 401),
    # --- the caller's own things: any account, never anonymous ----------------------------
    ("me_get",                  "GET",    "/users/me",                     200, 200, 200, 200, 401),
    ("me_patch",                "PATCH",  "/users/me",                     200, 200, 200, 200, 401),
    ("my_blocks",               "GET",    "/me/blocks",                    200, 200, 200, 200, 401),
    ("my_mutes",                "GET",    "/me/mutes",                     200, 200, 200, 200, 401),
    ("feed",                    "GET",    "/feed",                         200, 200, 200, 200, 401),
    ("feed_refresh",            "GET",    "/feed/refresh",                 200, 200, 200, 200, 401),
    ("sessions_list",           "GET",    "/auth/sessions",                200, 200, 200, 200, 401),
    # Somebody else's session is "not found", not "forbidden": session ids stay secret.
    ("session_delete",          "DELETE", "/auth/sessions/{session}",      204, 404, 404, 404, 401),
    # --- media: uploads are private to their owner until attached to a post ----------------
    ("media_create",            "POST",   "/media",                        201, 201, 201, 201, 401),
    ("media_get",               "GET",    "/media/{media}",                200, 404, 404, 404, 401),
    ("media_delete",            "DELETE", "/media/{media}",                204, 404, 404, 404, 401),
    # --- notifications: only ever the caller's own; someone else's id is "not found" -------
    ("notifications_list",      "GET",    "/notifications",                200, 200, 200, 200, 401),
    ("notifications_unread",    "GET",    "/notifications/unread-count",   200, 200, 200, 200, 401),
    ("notifications_read_all",  "POST",   "/notifications/read",           204, 204, 204, 204, 401),
    ("notification_read",       "POST",   "/notifications/{notification}/read",
                                                                           204, 404, 404, 404, 401),
    ("notif_settings_get",      "GET",    "/notifications/settings",       200, 200, 200, 200, 401),
    ("notif_settings_patch",    "PATCH",  "/notifications/settings",       200, 200, 200, 200, 401),
    ("push_subscriptions_list", "GET",    "/notifications/push-subscriptions",
                                                                           200, 200, 200, 200, 401),
    ("push_subscription_create", "POST",  "/notifications/push-subscriptions",
                                                                           201, 201, 201, 201, 401),
    ("push_subscription_delete", "DELETE", "/notifications/push-subscriptions/{subscription}",
                                                                           204, 404, 404, 404, 401),
    ("vapid_public_key",        "GET",    "/notifications/push-subscriptions/vapid-public-key",
                                                                           200, 200, 200, 200, 401),
    # --- admin routes: 403 to every non-admin ----------------------------------------------
    ("admin_users_list",        "GET",    "/admin/users",                  403, 403, 403, 403, 401),
    ("admin_set_role",          "PUT",    "/admin/users/{owner}/role",     403, 403, 403, 403, 401),
]
# fmt: on


def _tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, "PNG")
    return out.getvalue()


BODIES: dict[str, dict[str, Any]] = {
    "content_create": {"text": "a new post"},
    "content_public_patch": {"text": "edited"},
    "content_followers_patch": {"text": "edited"},
    "content_private_patch": {"text": "edited"},
    "comment_public": {"text": "hi"},
    "comment_followers": {"text": "hi"},
    "comment_private": {"text": "hi"},
    "me_patch": {"bio": "new bio"},
    "admin_set_role": {"role": "admin"},
    "notif_settings_patch": {"like": {"email": True}},
    "push_subscription_create": {
        "kind": "webpush",
        "endpoint": "https://push.example.net/matrix",
        "keys": {
            "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1Xbjh"
            "azAkj7I99e8QcYP7DkM",
            "auth": "tBHItJI5svbpez7KI4CCXg",
        },
    },
}
# Multipart files sent with the request.
FILES: dict[str, dict[str, tuple[str, bytes]]] = {
    "media_create": {"file": ("tiny.png", _tiny_png())},
}
# Header values are formatted with World.ids like paths.
HEADERS: dict[str, dict[str, str]] = {"feed_refresh": {"X-Last-Seen-Id": "{public}"}}

ENDPOINTS = {row[0]: row for row in ROWS}
CASES = [
    pytest.param(name, actor, status, id=f"{name}-{actor}-{status}")
    for name, _, _, *statuses in ROWS
    for actor, status in zip(ACTORS, statuses, strict=True)
]


@dataclass
class World:
    accounts: dict[str, Account]
    ids: dict[str, str]


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def _comment(client: httpx.AsyncClient, who: Account, post_id: str) -> str:
    r = await client.post(
        f"/api/v1/content/{post_id}/comment", json={"text": "a comment"}, headers=who.headers
    )
    return str(_ok(r, 201)["id"])


async def build_world(api: Api, client: httpx.AsyncClient, needs: set[str]) -> World:
    """The people and their relationships always; posts, comments and the session on demand.

    Building only what the endpoint under test refers to keeps each case to about a dozen
    calls.
    """
    owner, follower = await api.register(), await api.register()
    stranger, blocked = await api.register(), await api.register()
    await api.follow(follower, owner)
    await api.follow(blocked, owner)
    await api.block(owner, blocked)
    ids = {"owner": owner.id, "name": owner.username, "blocked": blocked.id}
    if needs & {"public", "owner_comment", "follower_comment"}:
        ids["public"] = (await api.post(owner, "public post"))["id"]
    if needs & {"followers", "hidden_comment"}:
        ids["followers"] = (await api.post(owner, "followers post", visibility="followers"))["id"]
    if "private" in needs:
        ids["private"] = (await api.post(owner, "private post", visibility="private"))["id"]
    if "owner_comment" in needs:
        ids["owner_comment"] = await _comment(client, owner, ids["public"])
    if "follower_comment" in needs:
        ids["follower_comment"] = await _comment(client, follower, ids["public"])
    if "hidden_comment" in needs:
        ids["hidden_comment"] = await _comment(client, owner, ids["followers"])
    if "blocked_post" in needs:
        ids["blocked_post"] = (await api.post(blocked, "the blocked user's post"))["id"]
    if "media" in needs:
        r = await client.post(
            "/api/v1/media", files={"file": ("a.png", _tiny_png())}, headers=owner.headers
        )
        ids["media"] = str(_ok(r, 201)["id"])
    if "notification" in needs:
        # The follower's follow notified the owner (the blocked user's was withdrawn).
        listed = _ok(await client.get("/api/v1/notifications", headers=owner.headers))
        ids["notification"] = listed["items"][0]["id"]
    if "subscription" in needs:
        r = await client.post(
            "/api/v1/notifications/push-subscriptions",
            json={**BODIES["push_subscription_create"], "endpoint": "https://push.example.net/o"},
            headers=owner.headers,
        )
        ids["subscription"] = _ok(r, 201)["id"]
    if "session" in needs:
        sessions = _ok(await client.get("/api/v1/auth/sessions", headers=owner.headers))
        ids["session"] = sessions["items"][0]["id"]
    accounts = {"owner": owner, "follower": follower, "stranger": stranger, "blocked": blocked}
    return World(accounts, ids)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_matrix_covers_every_resource_route(app: Any) -> None:
    """A new route that takes a user, post, comment or session id must get a row here."""
    covered = {(method, "/api/v1" + path) for _, method, path, *_ in ROWS}
    templates = {
        "{user_id}": ("{owner}", "{blocked}"),
        "{username}": ("{name}",),
        "{content_id}": ("{public}", "{followers}", "{private}", "{blocked_post}"),
        "{comment_id}": ("{owner_comment}", "{follower_comment}", "{hidden_comment}"),
        "{session_id}": ("{session}",),
        "{media_id}": ("{media}",),
        "{notification_id}": ("{notification}",),
        "{subscription_id}": ("{subscription}",),
    }
    missing = []
    for path, item in app.openapi()["paths"].items():
        placeholder = next((p for p in templates if p in path), None)
        if placeholder is None:
            continue
        for method in item:
            concrete = {path.replace(placeholder, t) for t in templates[placeholder]}
            if not any((method.upper(), c) in covered for c in concrete):
                missing.append(f"{method.upper()} {path}")
    assert missing == []


@pytest.mark.parametrize(("endpoint", "actor", "expected"), CASES)
async def test_access(
    api: Api, client: httpx.AsyncClient, endpoint: str, actor: str, expected: int
) -> None:
    _, method, path, *_ = ENDPOINTS[endpoint]
    header_templates = HEADERS.get(endpoint, {})
    needs = _fields(path).union(*(_fields(v) for v in header_templates.values()))
    world = await build_world(api, client, needs)
    headers = {k: v.format(**world.ids) for k, v in header_templates.items()}
    if actor != "anonymous":
        headers.update(world.accounts[actor].headers)
    url = "/api/v1" + path.format(**world.ids)
    r = await client.request(
        method, url, json=BODIES.get(endpoint), files=FILES.get(endpoint), headers=headers
    )
    assert r.status_code == expected, r.text
    if expected >= 400:
        error = r.json()["error"]
        assert error["code"] and error["message"], r.text
