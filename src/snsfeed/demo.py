"""Demo data: a living network (accounts, follows, posts, likes, threaded comments, blocks).

Everything goes through the contexts' services, never their tables, so outbox events and
counters are exactly what real use produces. Every choice comes from one
``random.Random(seed)`` drawn in a fixed order: the same seed gives the same accounts, graph,
texts and engagement (ids and timestamps differ). Work is committed in batches, one session
per batch, one batch at a time (so outbox rows commit in the order of their ``seq``).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from argon2 import PasswordHasher
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from snsfeed.config import Settings
from snsfeed.content import service as content
from snsfeed.content.models import ContentType, Visibility
from snsfeed.content.schemas import ContentCreate
from snsfeed.engagement import service as engagement
from snsfeed.engagement.schemas import CommentCreate
from snsfeed.graph import service as graph
from snsfeed.platform.db import create_engine, create_sessionmaker, session_scope
from snsfeed.platform.errors import Conflict
from snsfeed.platform.migrations import upgrade_to_head
from snsfeed.platform.security import make_password_hasher
from snsfeed.users import service as accounts
from snsfeed.users.models import Role
from snsfeed.users.schemas import Principal, RegisterRequest

LOGIN_USERNAME = "demo"
EMAIL_DOMAIN = "demo.example.org"
BATCH_SIZE = 200
VISIBILITY_MIX = {Visibility.PUBLIC: 75, Visibility.FOLLOWERS: 20, Visibility.PRIVATE: 5}
T = TypeVar("T")

# --- the corpus ------------------------------------------------------------------------------
# demo_corpus.txt keeps the word lists readable; `_parse_corpus` turns it into a dict:
# "[topic]" starts a section; "key: value" lines append to that key's list.

_CORPUS = (Path(__file__).parent / "demo_corpus.txt").read_text(encoding="utf-8")
# Keys whose values are space-separated words rather than one sentence per line.
_WORD_KEYS = {"tags_ko", "tags_en", "ko_family", "ko_given", "en_first", "en_last"}


def _parse_corpus(text: str) -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in text.strip().splitlines():
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        elif line:
            key, value = line.split(": ", 1)
            current.setdefault(key, []).extend(value.split() if key in _WORD_KEYS else [value])
    return sections


CORPUS = _parse_corpus(_CORPUS)
COMMON, NAMES, TAILS = CORPUS.pop("common"), CORPUS.pop("names"), CORPUS.pop("tails")
TOPICS = CORPUS  # food, travel, coffee, python, books, fitness, music, pets


def _pairs(words: list[str]) -> list[tuple[str, str]]:
    return [(w.split(":")[0], w.split(":")[1]) for w in words]


KO_FAMILY, KO_GIVEN = _pairs(NAMES["ko_family"]), _pairs(NAMES["ko_given"])
EN_FIRST, EN_LAST = NAMES["en_first"], NAMES["en_last"]


class DemoError(Exception):
    """The demo cannot run; the message says why and what to do."""


class DemoAlreadyLoaded(DemoError):
    pass


@dataclass
class DemoSummary:
    login_username: str
    password: str
    usernames: list[str]
    follows: int = 0
    posts: int = 0
    likes: int = 0
    comments: int = 0
    blocks: int = 0
    mutes: int = 0
    seconds: float = 0.0


@dataclass
class _Person:
    username: str
    full_name: str
    bio: str
    lang: str
    topics: list[str]
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass
class _Post:
    author: int
    lang: str
    topic: str
    visibility: Visibility
    link: bool
    mention: int | None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


class _SharedPasswordHasher(PasswordHasher):
    """Every demo account shares one password: hash it once (argon2 costs ~0.2 s per hash)."""

    def __init__(self, settings: Settings, password: str) -> None:
        base = make_password_hasher(settings)
        super().__init__(
            time_cost=base.time_cost,
            memory_cost=base.memory_cost,
            parallelism=base.parallelism,
            hash_len=base.hash_len,
            salt_len=base.salt_len,
        )
        self._password = password
        self._hash = super().hash(password)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        if salt is None and password in (self._password, self._password.encode()):
            return self._hash
        return super().hash(password, salt=salt)


# --- planning: pure functions of the random generator ---------------------------------------


def _plan_people(rng: random.Random, n: int) -> list[_Person]:
    people = [
        _Person(
            LOGIN_USERNAME, "Demo 데모", "The demo account. 데모 계정입니다 👋", "en", list(TOPICS)
        )
    ]
    taken = {LOGIN_USERNAME}
    while len(people) < n:
        topics = rng.sample(list(TOPICS), k=rng.randint(1, 3))
        lang = "ko" if rng.random() < 0.55 else "en"
        if lang == "ko":
            (fam, fam_h), (giv, giv_h) = rng.choice(KO_FAMILY), rng.choice(KO_GIVEN)
            full_name, first, last = f"{fam_h}{giv_h}", giv, fam
        else:
            first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
            full_name = f"{first.title()} {last.title()}"
        handle = rng.choice(
            [
                f"{first}_{last}",
                f"{first}{last[0]}",
                f"{first}_{TOPICS[topics[0]]['handle'][0]}",
                f"{last}_{first}",
                f"{first}{rng.randint(1, 99)}",
            ]
        )
        while handle in taken:
            handle = f"{handle[:26]}{rng.randint(0, 9)}"
        taken.add(handle)
        bio = " · ".join(rng.choice(TOPICS[t][f"bio_{lang}"]) for t in topics[:2])
        people.append(_Person(handle, full_name, bio, lang, topics))
    return people


def _weighted_sample(
    rng: random.Random, cum_weights: list[float], k: int, exclude: int
) -> set[int]:
    """k distinct indices drawn in proportion to weights (popular accounts come up often)."""
    chosen: set[int] = set()
    population = range(len(cum_weights))
    for _ in range(4):  # redraw a few times when duplicates and `exclude` leave us short
        for pick in rng.choices(population, cum_weights=cum_weights, k=k - len(chosen)):
            if pick != exclude:
                chosen.add(pick)
        if len(chosen) >= k:
            break
    return chosen


def _plan_follows(rng: random.Random, n: int) -> list[tuple[int, int]]:
    """Power-law popularity: the account ranked r is chosen with weight 1/r^0.9."""
    ranks = list(range(1, n + 1))
    rng.shuffle(ranks)
    popularity = list(itertools.accumulate(1 / r**0.9 for r in ranks))
    # Someone follows ~6 accounts; in a small network proportionally fewer, so popularity shows.
    typical = math.log(min(6.0, max(2.0, n / 10)))
    edges: dict[tuple[int, int], None] = {}
    for a in range(n):
        want = 40 if a == 0 else int(rng.lognormvariate(typical, 0.7))
        for b in sorted(_weighted_sample(rng, popularity, min(want, n - 1), a)):
            edges[(a, b)] = None
            if rng.random() < 0.2:  # some follow back
                edges[(b, a)] = None
    return list(edges)


def _plan_posts(
    rng: random.Random, people: list[_Person], n: int, following: dict[int, list[int]]
) -> list[_Post]:
    activity = [min(rng.paretovariate(1.2), 30.0) for _ in people]
    authors = rng.choices(range(len(people)), weights=activity, k=n)
    posts: list[_Post] = []
    for author in authors:
        person = people[author]
        lang = person.lang if rng.random() < 0.8 else ("en" if person.lang == "ko" else "ko")
        visibility = rng.choices(list(VISIBILITY_MIX), weights=list(VISIBILITY_MIX.values()))[0]
        friends = following.get(author, [])
        mention = rng.choice(friends) if friends and rng.random() < 0.2 else None
        topic = rng.choice(person.topics)
        posts.append(_Post(author, lang, topic, visibility, rng.random() < 0.08, mention))
    return posts


def _post_text(rng: random.Random, post: _Post, people: list[_Person]) -> str:
    topic = TOPICS[post.topic]
    lines = COMMON[f"link_{post.lang}"] if post.link else topic[post.lang]
    text = rng.choice(lines)
    if not post.link and rng.random() < 0.3:
        text += " " + rng.choice(TAILS[post.lang])
    if post.mention is not None:
        text += f" @{people[post.mention].username}"
    tags = rng.sample(topic[f"tags_{post.lang}"], k=rng.randint(1, 2))
    return f"{text} {' '.join('#' + t for t in tags)}"


# --- running: every write goes through a context's service ----------------------------------


def _principal(person: _Person) -> Principal:
    return Principal(
        id=person.id, username=person.username, role=Role.USER, session_id=uuid.uuid4()
    )


async def _in_batches(
    maker: async_sessionmaker[AsyncSession],
    items: Sequence[T],
    step: Callable[[AsyncSession, T], Awaitable[None]],
    advance: Callable[[int], None],
) -> None:
    scope = asynccontextmanager(session_scope)
    for start in range(0, len(items), BATCH_SIZE):
        chunk = items[start : start + BATCH_SIZE]
        async with scope(maker) as session:
            for item in chunk:
                await step(session, item)
        advance(len(chunk))


async def _register(session: AsyncSession, hasher: PasswordHasher, p: _Person, pw: str) -> None:
    """Register under the planned handle, or a numbered variant when it is taken (--force)."""
    base = p.username
    for attempt in range(1, 1000):
        name = base if attempt == 1 else f"{base[:25]}_{attempt}"
        data = RegisterRequest(
            username=name,
            email=f"{name}@{EMAIL_DOMAIN}",
            password=pw,
            full_name=p.full_name,
            bio=p.bio,
        )
        try:
            user = await accounts.register(session, hasher, data)
        except Conflict:
            continue
        p.username, p.id = user.username, user.id
        return
    raise DemoError(f"no free username near {base!r}")


async def _check_fresh(maker: async_sessionmaker[AsyncSession], force: bool) -> None:
    try:
        async with asynccontextmanager(session_scope)(maker) as session:
            existing = await accounts.get_by_username(session, LOGIN_USERNAME)
    except DBAPIError as exc:
        raise DemoError(
            f"the database is not ready ({type(exc.orig).__name__}); run `snsfeed migrate` first"
        ) from exc
    if existing is not None and not force:
        raise DemoAlreadyLoaded(
            f"this database already holds demo data (an account named {LOGIN_USERNAME!r} "
            "exists). Use --force to add another demo network, or point SNSFEED_DATA_DIR / "
            "SNSFEED_DATABASE_URL at a fresh database."
        )


async def fill_demo(
    settings: Settings,
    *,
    users: int = 300,
    posts: int = 2000,
    seed: int = 7,
    password: str = "demo-password",
    force: bool = False,
    console: Console | None = None,
) -> DemoSummary:
    """Plan a network from ``seed`` and write it through the services; returns what was made."""
    if users < 2:
        raise DemoError("a network needs at least 2 users")
    if len(password) < 8:
        raise DemoError("the demo password needs at least 8 characters")
    console = console or Console(quiet=True)
    started = time.monotonic()
    if settings.embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(upgrade_to_head, settings.resolved_database_url)
    engine = create_engine(settings.resolved_database_url)
    try:
        maker = create_sessionmaker(engine)
        await _check_fresh(maker, force)
        summary = await _fill(maker, settings, users, posts, seed, password, console)
    finally:
        await engine.dispose()
    summary.seconds = time.monotonic() - started
    return summary


@dataclass
class _Plan:
    people: list[_Person]
    edges: list[tuple[int, int]]
    followers: dict[int, list[int]]
    posts: list[_Post]


def _plan(rng: random.Random, n_users: int, n_posts: int) -> _Plan:
    people = _plan_people(rng, n_users)
    edges = _plan_follows(rng, n_users)
    following: dict[int, list[int]] = {}
    followers: dict[int, list[int]] = {}
    for a, b in edges:
        following.setdefault(a, []).append(b)
        followers.setdefault(b, []).append(a)
    return _Plan(people, edges, followers, _plan_posts(rng, people, n_posts, following))


async def _fill(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    n_users: int,
    n_posts: int,
    seed: int,
    password: str,
    console: Console,
) -> DemoSummary:
    rng = random.Random(seed)
    plan = _plan(rng, n_users, n_posts)
    people, hasher = plan.people, _SharedPasswordHasher(settings, password)
    summary = DemoSummary(LOGIN_USERNAME, password, [], posts=len(plan.posts))
    columns = (TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
        tasks = [
            bar.add_task(name, total=total)
            for name, total in (
                ("accounts", len(people)),
                ("follows", len(plan.edges)),
                ("posts", len(plan.posts)),
                ("likes & comments", len(plan.posts)),
            )
        ]

        async def register(session: AsyncSession, p: _Person) -> None:
            await _register(session, hasher, p, password)

        async def follow(session: AsyncSession, edge: tuple[int, int]) -> None:
            await graph.follow(session, people[edge[0]].id, people[edge[1]].id)

        async def create(session: AsyncSession, post: _Post) -> None:
            data = ContentCreate(
                content_type=ContentType.LINK if post.link else ContentType.TEXT,
                text=_post_text(rng, post, people),
                link_url=TOPICS[post.topic]["link"][0] if post.link else None,
                visibility=post.visibility,
            )
            created = await content.create(session, settings, _principal(people[post.author]), data)
            post.id = created.id

        async def engage(session: AsyncSession, post: _Post) -> None:
            likes, comments = await _engage(session, settings, rng, plan, post)
            summary.likes += likes
            summary.comments += comments

        await _in_batches(maker, people, register, lambda k: bar.advance(tasks[0], k))
        await _in_batches(maker, plan.edges, follow, lambda k: bar.advance(tasks[1], k))
        await _in_batches(maker, plan.posts, create, lambda k: bar.advance(tasks[2], k))
        await _in_batches(maker, plan.posts, engage, lambda k: bar.advance(tasks[3], k))
    live_edges = set(plan.edges)
    summary.blocks, summary.mutes = await _blocks_and_mutes(maker, rng, people, live_edges)
    summary.follows = len(live_edges)
    summary.login_username = people[0].username
    summary.usernames = [p.username for p in people]
    return summary


async def _engage(
    session: AsyncSession,
    settings: Settings,
    rng: random.Random,
    plan: _Plan,
    post: _Post,
) -> tuple[int, int]:
    """Likes and a small comment thread from people allowed to see the post."""
    if post.visibility == Visibility.PRIVATE:
        return 0, 0
    people, fans = plan.people, plan.followers.get(post.author, [])
    audience = set(fans)
    if post.visibility == Visibility.PUBLIC:  # strangers find public posts too
        audience |= {rng.randrange(len(people)) for _ in range(len(fans) // 3 + 3)}
    audience.discard(post.author)
    pool = sorted(audience)
    n_likes = min(len(pool), int(rng.expovariate(1 / (0.8 + 0.08 * len(fans)))))
    for i in rng.sample(pool, n_likes):
        await engagement.like(session, _principal(people[i]), post.id)
    n_comments = min(len(pool), int(rng.expovariate(1 / 0.9)))
    thread: list[uuid.UUID] = []
    for i in rng.sample(pool, n_comments):
        text, parent = rng.choice(COMMON[f"comment_{people[i].lang}"]), None
        if thread and rng.random() < 0.35:
            text, parent = rng.choice(COMMON[f"reply_{people[i].lang}"]), rng.choice(thread)
        data = CommentCreate(text=text, parent_comment_id=parent)
        comment = await engagement.add_comment(
            session, settings, _principal(people[i]), post.id, data
        )
        thread.append(comment.id)
    if thread and rng.random() < 0.4:  # the author answers the first comment
        lang = people[post.author].lang
        data = CommentCreate(text=rng.choice(COMMON[f"reply_{lang}"]), parent_comment_id=thread[0])
        await engagement.add_comment(
            session, settings, _principal(people[post.author]), post.id, data
        )
        return n_likes, n_comments + 1
    return n_likes, n_comments


async def _blocks_and_mutes(
    maker: async_sessionmaker[AsyncSession],
    rng: random.Random,
    people: list[_Person],
    live_edges: set[tuple[int, int]],
) -> tuple[int, int]:
    """A few blocks and mutes, last so they do not stop the engagement above.

    The login account stays out of them, so what it sees is the whole network.
    """
    n = len(people)
    if n < 4:
        return 0, 0
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < max(1, n // 60) + max(1, n // 40):
        a, b = rng.randrange(1, n), rng.randrange(1, n)
        if a != b and (b, a) not in pairs:
            pairs.add((a, b))
    ordered = sorted(pairs)
    n_blocks = max(1, n // 60)
    async with asynccontextmanager(session_scope)(maker) as session:
        for k, (a, b) in enumerate(ordered):
            if k < n_blocks:
                await graph.block(session, people[a].id, people[b].id)
                live_edges.discard((a, b))  # a block ends follows both ways
                live_edges.discard((b, a))
            else:
                await graph.mute(session, people[a].id, people[b].id)
    return n_blocks, len(ordered) - n_blocks
