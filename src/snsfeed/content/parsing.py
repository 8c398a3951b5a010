"""Hashtag and mention extraction from post text.

Both functions are pure (no I/O) and never raise on arbitrary ``str`` input.

Why not ``text.split()`` and ``startswith("#")``? Because the naive approach is wrong in
ways users notice immediately:

* Punctuation sticks to the token: ``"love #python!"`` would index ``python!`` and
  ``"(#python)"`` would index nothing.
* Non-tag ``#`` and ``@`` are everywhere: URL fragments (``http://x.com/#frag``), HTML
  entities (``&#39;``), words like ``C#`` or ``a#b``, e-mail addresses (``bob@example.com``)
  and profile URLs (``https://medium.com/@alice``). A hashtag or mention must therefore start
  at a *token boundary*, which we define the same way Mastodon and Twitter do: at the start
  of the text or after a character that is not a word character and not one of a few
  URL/entity characters.
* Tags are not ASCII. ``#맛집``, ``#日本語`` and ``#Café`` are ordinary tags, and so is a tag
  typed with a CJK input method in full-width forms (``＃ｐｙｔｈｏｎ``) or with a decomposed
  accent (``Cafe`` + U+0301). We normalise with **NFKC** (not NFC) so compatibility forms –
  full-width letters and ``＃``, half-width Hangul, ligatures such as ``ﬁ`` – fold onto
  their ordinary forms, then apply ``str.casefold()`` (full Unicode case folding, so ``CAFÉ``,
  ``Café`` and ``café`` are one tag, and ``STRASSE`` equals ``straße``), then NFKC again
  because case folding can produce un-normalised sequences. Note that NFKC maps Hangul
  compatibility jamo (``ㅋ``) to conjoining jamo (U+110F), so ``#ㅋㅋ`` is stored in that
  form; anyone looking a tag up must fold the query with :func:`fold_hashtag` too.
* Pure numbers (``#1``, ``#2024``) are issue numbers or rankings, not topics, so a tag needs
  at least one non-digit character (``#2024년`` and ``#python3`` are fine).
* Mentions are ASCII usernames (``[A-Za-z0-9_]{3,30}``); ``@alice@host`` is a federated
  (remote) address, not a local mention, and a 31+ character run is not a truncated mention
  of somebody else.

Limits (30 hashtags of at most 100 characters each, 50 mentions) keep a single post from
fanning out to an unbounded number of tag timelines or notifications. Over-long tags are
dropped, never truncated: a truncated tag would silently file the post under a different
topic.
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "MAX_HASHTAGS",
    "MAX_HASHTAG_LENGTH",
    "MAX_MENTIONS",
    "MAX_USERNAME_LENGTH",
    "MIN_USERNAME_LENGTH",
    "extract_hashtags",
    "extract_mentions",
    "fold_hashtag",
]

MAX_HASHTAGS = 30
MAX_HASHTAG_LENGTH = 100
MAX_MENTIONS = 50
MIN_USERNAME_LENGTH = 3
MAX_USERNAME_LENGTH = 30

# A ``#`` directly after one of these does not start a hashtag (besides word characters):
# ``&#39;`` (HTML entity), ``http://x.com/#frag`` (URL fragment), ``##tag``.
_HASHTAG_BLOCKERS = frozenset("&/#")

# An ``@`` directly after one of these does not start a mention (besides word characters):
# e-mail-ish and URL-ish contexts such as ``a.@b``, ``x=@y``, ``medium.com/@alice``, ``@@x``.
_MENTION_BLOCKERS = frozenset("@＠.!#$%&*+-/=~")

_USERNAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _is_mark(ch: str) -> bool:
    """Combining marks (Mn, Mc, Me) belong to the preceding letter."""
    return unicodedata.category(ch).startswith("M")


def _is_word_char(ch: str) -> bool:
    """Letter/digit of any script, underscore or combining mark.

    ``str.isalnum()`` plus ``_`` is exactly what ``re``'s Unicode ``\\w`` matches; marks are
    added so that e.g. Devanagari vowel signs or an accent NFKC could not compose stay inside
    the word.
    """
    return ch == "_" or ch.isalnum() or _is_mark(ch)


def fold_hashtag(tag: str) -> str:
    """Return the canonical (NFKC, case-folded) form of a hashtag body (without ``#``).

    Use this on search queries so they compare equal to what :func:`extract_hashtags`
    returns. It does not validate ``tag``.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", tag).casefold())


def _is_valid_tag(tag: str) -> bool:
    return (
        0 < len(tag) <= MAX_HASHTAG_LENGTH
        and not _is_mark(tag[0])
        and not all(ch.isdigit() for ch in tag)
    )


def extract_hashtags(text: str) -> list[str]:
    """Return the hashtags in ``text``: folded, unique, in order of first appearance.

    A hashtag is ``#`` followed by a maximal run of word characters (letters and digits of
    any script, ``_``, combining marks), where the ``#`` is at the start of the text or
    preceded by a character that is neither a word character nor one of ``& / #``. The run
    must not start with a combining mark and must contain a non-digit. The text is NFKC
    normalised before scanning and each tag is returned as :func:`fold_hashtag` of the run.
    Tags longer than :data:`MAX_HASHTAG_LENGTH` characters (after folding) are dropped;
    at most :data:`MAX_HASHTAGS` tags are returned (the first ones).
    """
    normalized = unicodedata.normalize("NFKC", text)
    tags: list[str] = []
    seen: set[str] = set()
    length = len(normalized)
    start = normalized.find("#")
    while start != -1 and len(tags) < MAX_HASHTAGS:
        end = start + 1
        if start == 0 or not (
            _is_word_char(prev := normalized[start - 1]) or prev in _HASHTAG_BLOCKERS
        ):
            while end < length and _is_word_char(normalized[end]):
                end += 1
            tag = fold_hashtag(normalized[start + 1 : end])
            if _is_valid_tag(tag) and tag not in seen:
                seen.add(tag)
                tags.append(tag)
        start = normalized.find("#", end)
    return tags


def _is_latin_letter(ch: str) -> bool:
    return ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN ")


def extract_mentions(text: str) -> list[str]:
    """Return the local usernames mentioned in ``text``: lower-cased, unique, in order.

    A mention is ``@`` followed by 3–30 characters of ``[A-Za-z0-9_]`` where:

    * the ``@`` is at the start of the text or preceded by a character that is not a word
      character (any script) and not one of ``@ ＠ . ! # $ % & * + - / = ~`` – so
      ``bob@example.com`` and ``https://medium.com/@alice`` are not mentions;
    * the username run is maximal and at most 30 characters (a 31+ character run is not a
      mention at all, not even of its first 30 characters);
    * the run is not followed by ``@`` (``@alice@host`` is a remote account), by a combining
      mark or by another Latin letter such as ``é`` (``@alicé`` is not ``@alic``). Other
      scripts may follow directly, so the Korean honorific in ``@alice님`` still mentions
      ``alice``.

    No Unicode normalisation is applied. At most :data:`MAX_MENTIONS` are returned.
    """
    mentions: list[str] = []
    seen: set[str] = set()
    length = len(text)
    start = text.find("@")
    while start != -1 and len(mentions) < MAX_MENTIONS:
        end = start + 1
        if start == 0 or not (_is_word_char(prev := text[start - 1]) or prev in _MENTION_BLOCKERS):
            while end < length and text[end] in _USERNAME_CHARS:
                end += 1
            run_length = end - start - 1
            following = text[end] if end < length else ""
            if (
                MIN_USERNAME_LENGTH <= run_length <= MAX_USERNAME_LENGTH
                and following != "@"
                and not (following and (_is_mark(following) or _is_latin_letter(following)))
            ):
                username = text[start + 1 : end].lower()
                if username not in seen:
                    seen.add(username)
                    mentions.append(username)
        start = text.find("@", end)
    return mentions
