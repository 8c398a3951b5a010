"""Input types every context shares: text and URLs the databases can actually store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, AnyHttpUrl


def storable_text(value: str) -> str:
    # PostgreSQL text cannot hold U+0000 and no UTF-8 encoder accepts a lone surrogate
    # (JSON allows both as escapes): refuse them here instead of failing in the driver.
    if "\x00" in value:
        raise ValueError("text must not contain the NUL character (U+0000)")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("text must not contain unpaired surrogates")
    return value


def url_at_most(length: int) -> Callable[[AnyHttpUrl], AnyHttpUrl]:
    """A URL that fits its column, so an overlong one is a 422, not a database error."""

    def check(value: AnyHttpUrl) -> AnyHttpUrl:
        if len(str(value)) > length:
            raise ValueError(f"URL must be at most {length} characters")
        return value

    return check


StorableText = Annotated[str, AfterValidator(storable_text)]
