"""The per-process memory of verified access tokens never outlives a token."""

from __future__ import annotations

import time
from pathlib import Path

from snsfeed.platform.security import TokenSigner, load_signing_key
from tests.conftest import base_settings


def signer(tmp_path: Path, ttl: int) -> TokenSigner:
    settings = base_settings(tmp_path, access_token_ttl_seconds=ttl)
    return TokenSigner(load_signing_key(settings), settings)


def test_a_verified_token_verifies_again_with_the_same_claims(tmp_path: Path) -> None:
    s = signer(tmp_path, 900)
    token = s.issue(subject="u1", session_id="s1", role="user")
    first, second = s.verify(token), s.verify(token)
    assert first is not None and first == second and first["sub"] == "u1"


def test_a_remembered_token_is_rejected_once_it_expires(tmp_path: Path) -> None:
    s = signer(tmp_path, 1)
    token = s.issue(subject="u1", session_id="s1", role="user")
    assert s.verify(token) is not None
    time.sleep(1.2)  # let the real clock pass the token's `exp`
    assert s.verify(token) is None


def test_a_tampered_copy_of_a_remembered_token_is_rejected(tmp_path: Path) -> None:
    s = signer(tmp_path, 900)
    token = s.issue(subject="u1", session_id="s1", role="user")
    assert s.verify(token) is not None
    header, payload, signature = token.split(".")
    tampered = ".".join(
        [header, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")]
    )
    assert s.verify(tampered) is None
