"""A feed read once (caches warm) shows every later change on the next read."""

from __future__ import annotations

from tests.helpers import Account, Api


async def _warm_feed_of_one_post(api: Api) -> tuple[Account, Account, dict[str, object]]:
    author, reader = await api.register(), await api.register()
    await api.follow(reader, author)
    post = await api.post(author, "first words")
    [item] = (await api.feed(reader))["items"]
    assert item["content"]["text"] == "first words"
    return author, reader, post


async def test_an_edit_shows_on_the_next_read(api: Api) -> None:
    author, reader, post = await _warm_feed_of_one_post(api)
    r = await api.client.patch(
        f"/api/v1/content/{post['id']}", json={"text": "second words"}, headers=author.headers
    )
    assert r.status_code == 200, r.text
    [item] = (await api.feed(reader))["items"]
    assert item["content"]["text"] == "second words"


async def test_a_like_updates_the_counter_and_the_likers_own_state(api: Api) -> None:
    author, reader, post = await _warm_feed_of_one_post(api)
    await api.like(reader, str(post["id"]))
    [item] = (await api.feed(reader))["items"]
    assert item["engagement"]["likes_count"] == 1
    assert item["viewer"]["liked"] is True
    [own] = (await api.feed(author))["items"]
    assert own["engagement"]["likes_count"] == 1
    assert own["viewer"]["liked"] is False


async def test_a_comment_updates_the_counter(api: Api) -> None:
    _, reader, post = await _warm_feed_of_one_post(api)
    await api.comment(reader, str(post["id"]))
    [item] = (await api.feed(reader))["items"]
    assert item["engagement"]["comments_count"] == 1


async def test_a_deleted_post_leaves_the_next_read(api: Api) -> None:
    author, reader, post = await _warm_feed_of_one_post(api)
    r = await api.client.delete(f"/api/v1/content/{post['id']}", headers=author.headers)
    assert r.status_code == 204, r.text
    assert (await api.feed(reader))["items"] == []


async def test_a_profile_change_shows_in_the_authors_summary(api: Api) -> None:
    author, reader, _ = await _warm_feed_of_one_post(api)
    r = await api.client.patch(
        "/api/v1/users/me", json={"full_name": "새 이름"}, headers=author.headers
    )
    assert r.status_code == 200, r.text
    [item] = (await api.feed(reader))["items"]
    assert item["author"]["full_name"] == "새 이름"


async def test_a_mute_hides_the_author_on_the_next_read(api: Api) -> None:
    author, reader, _ = await _warm_feed_of_one_post(api)
    await api.mute(reader, author)
    assert (await api.feed(reader))["items"] == []


async def test_a_block_by_the_author_hides_them_on_the_next_read(api: Api) -> None:
    author, reader, _ = await _warm_feed_of_one_post(api)
    await api.block(author, reader)
    assert (await api.feed(reader))["items"] == []


async def test_an_unfollow_then_follow_shows_the_change_each_time(api: Api) -> None:
    author, reader, post = await _warm_feed_of_one_post(api)
    r = await api.client.delete(f"/api/v1/users/{author.id}/follow", headers=reader.headers)
    assert r.status_code == 204, r.text
    assert (await api.feed(reader))["items"] == []
    await api.follow(reader, author)
    assert [i["id"] for i in (await api.feed(reader))["items"]] == [post["id"]]


async def test_a_deleted_account_vanishes_from_the_next_read(api: Api) -> None:
    author, reader, _ = await _warm_feed_of_one_post(api)
    r = await api.client.delete("/api/v1/users/me", headers=author.headers)
    assert r.status_code == 204, r.text
    assert (await api.feed(reader))["items"] == []


async def test_a_revoked_session_is_refused_even_after_a_cached_read(api: Api) -> None:
    _, reader, _ = await _warm_feed_of_one_post(api)
    r = await api.client.post(
        "/api/v1/auth/revoke", data={"token": reader.access_token}, headers=reader.headers
    )
    assert r.status_code == 200, r.text
    r = await api.client.get("/api/v1/feed", headers=reader.headers)
    assert r.status_code == 401
