from tests.helpers import Api


async def test_registered_user_sees_own_post_in_feed(api: Api) -> None:
    alice = await api.register("alice")
    post = await api.post(alice, "hi #맛집 #Café @alice")
    assert post["content"]["hashtags"] == ["맛집", "café"]
    feed = await api.feed(alice)
    assert [i["id"] for i in feed["items"]] == [post["id"]]
