"""Property test: no body sent to ``POST /api/v1/users`` makes the server answer 5xx.

Hypothesis drives a sync ``TestClient`` (it runs the app's loop in its own thread) on a
separate embedded app, so the session event loop of the async tests is not involved.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snsfeed.app import create_app
from tests.conftest import base_settings

with warnings.catch_warnings():
    # Starlette's notice about its httpx backend is not ours to act on.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # includes NaN and ±Infinity, which are not JSON at all
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
field_values = st.one_of(
    json_values,
    st.from_regex(r"[A-Za-z0-9_]{1,40}", fullmatch=True),
    st.emails(),
    st.text(min_size=6, max_size=12),
)
register_like = st.fixed_dictionaries(
    {},
    optional={name: field_values for name in ("username", "email", "password", "full_name", "bio")},
)
bodies = st.one_of(json_values, register_like)

EXAMPLES = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def sync_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(base_settings(tmp_path_factory.mktemp("register_property")))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def assert_not_5xx(status: int, text: str) -> None:
    assert status < 500, text


@EXAMPLES
@given(body=bodies)
def test_register_never_answers_5xx_to_arbitrary_json(sync_client: TestClient, body: Any) -> None:
    # json.dumps (not httpx's encoder) so NaN/Infinity reach the server as the bare words.
    r = sync_client.post(
        "/api/v1/users", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert_not_5xx(r.status_code, r.text)
    if r.status_code != 201:
        assert "error" in r.json()


@EXAMPLES
@given(raw=st.binary(max_size=200))
def test_register_never_answers_5xx_to_arbitrary_bytes(sync_client: TestClient, raw: bytes) -> None:
    r = sync_client.post("/api/v1/users", content=raw, headers={"Content-Type": "application/json"})
    assert_not_5xx(r.status_code, r.text)
    assert "error" in r.json()
