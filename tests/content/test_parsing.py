"""Tests for hashtag and mention extraction (``snsfeed.content.parsing``)."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from snsfeed.content.parsing import (
    MAX_HASHTAG_LENGTH,
    MAX_HASHTAGS,
    MAX_MENTIONS,
    extract_hashtags,
    extract_mentions,
    fold_hashtag,
)


def _fold_text(text: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


# --------------------------------------------------------------------------- hashtags


def test_hashtag_simple_ascii_tag_is_extracted() -> None:
    assert extract_hashtags("I love #python") == ["python"]


def test_hashtag_at_start_of_text_is_extracted() -> None:
    assert extract_hashtags("#python rocks") == ["python"]


def test_hashtag_korean_syllables_are_extracted() -> None:
    assert extract_hashtags("오늘의 #맛집 추천") == ["맛집"]


def test_hashtag_korean_particle_after_tag_stays_in_tag() -> None:
    # Hangul directly after the tag is part of the word; a space ends it.
    assert extract_hashtags("#서울에서 #맛집 탐방") == ["서울에서", "맛집"]


def test_hashtag_conjoining_jamo_compose_to_syllable() -> None:
    assert extract_hashtags("#\u1100\u1161") == ["가"]


def test_hashtag_compatibility_jamo_are_a_tag() -> None:
    assert extract_hashtags("ㅋㅋㅋ #ㅋㅋㅋ") == [unicodedata.normalize("NFKC", "ㅋㅋㅋ")]


def test_hashtag_halfwidth_hangul_folds_to_fullwidth() -> None:
    assert extract_hashtags("#\uffbb\uffbb") == extract_hashtags("#ㅋㅋ")


def test_hashtag_japanese_is_extracted() -> None:
    assert extract_hashtags("#日本語 の勉強") == ["日本語"]


def test_hashtag_cafe_accent_is_kept() -> None:
    assert extract_hashtags("#Café") == ["café"]


def test_hashtag_uppercase_accent_folds_to_same_tag() -> None:
    assert extract_hashtags("#CAFÉ #Café #café") == ["café"]


def test_hashtag_decomposed_accent_folds_to_composed() -> None:
    assert extract_hashtags("#Cafe\u0301") == ["café"]


def test_hashtag_sharp_s_case_folds() -> None:
    assert extract_hashtags("#Straße #STRASSE") == ["strasse"]


def test_hashtag_fullwidth_forms_fold_to_ascii() -> None:
    assert extract_hashtags("＃ＰＹＴＨＯＮ") == ["python"]


def test_hashtag_letters_and_digits_mixed_is_extracted() -> None:
    assert extract_hashtags("#python3") == ["python3"]


def test_hashtag_digits_only_is_not_a_tag() -> None:
    assert extract_hashtags("issue #123") == []


def test_hashtag_digits_followed_by_korean_is_a_tag() -> None:
    assert extract_hashtags("#2024년 회고") == ["2024년"]


def test_hashtag_underscore_only_is_a_tag() -> None:
    assert extract_hashtags("#_") == ["_"]


def test_hashtag_trailing_underscores_are_kept() -> None:
    assert extract_hashtags("#tag__ end") == ["tag__"]


def test_hashtag_ends_at_punctuation() -> None:
    assert extract_hashtags("(#python), #rust! #go.") == ["python", "rust", "go"]


def test_hashtag_ends_at_hyphen() -> None:
    assert extract_hashtags("#foo-bar") == ["foo"]


def test_hashtag_preceded_by_word_char_is_not_a_tag() -> None:
    assert extract_hashtags("a#b C#") == []


def test_hashtag_url_fragment_is_not_a_tag() -> None:
    assert extract_hashtags("see http://x.com/#frag") == []


def test_hashtag_html_entity_is_not_a_tag() -> None:
    assert extract_hashtags("it&#39;s &#x27;") == []


def test_hashtag_double_hash_is_not_a_tag() -> None:
    assert extract_hashtags("##tag") == []


def test_hashtag_glued_second_hash_is_not_a_tag() -> None:
    assert extract_hashtags("#one#two") == ["one"]


def test_hashtag_bare_hash_is_not_a_tag() -> None:
    assert extract_hashtags("# heading and #") == []


def test_hashtag_duplicates_are_removed_keeping_first_order() -> None:
    assert extract_hashtags("#b #a #B #c #a") == ["b", "a", "c"]


def test_hashtag_at_most_thirty_are_returned() -> None:
    text = " ".join(f"#tag{i}" for i in range(40))
    assert extract_hashtags(text) == [f"tag{i}" for i in range(MAX_HASHTAGS)]


def test_hashtag_of_max_length_is_kept() -> None:
    tag = "a" * MAX_HASHTAG_LENGTH
    assert extract_hashtags(f"#{tag}") == [tag]


def test_hashtag_over_max_length_is_dropped_not_truncated() -> None:
    assert extract_hashtags(f"#{'a' * (MAX_HASHTAG_LENGTH + 1)} #ok") == ["ok"]


def test_hashtag_dropped_over_long_tag_does_not_count_toward_limit() -> None:
    long_tags = " ".join(f"#{'x' * 101}{i}" for i in range(5))
    short_tags = " ".join(f"#t{i}" for i in range(MAX_HASHTAGS))
    assert len(extract_hashtags(f"{long_tags} {short_tags}")) == MAX_HASHTAGS


def test_hashtag_empty_text_has_no_tags() -> None:
    assert extract_hashtags("") == []


def test_fold_hashtag_matches_extracted_form() -> None:
    assert fold_hashtag("ＣＡＦＥ\u0301") == extract_hashtags("#cafe\u0301")[0]


# --------------------------------------------------------------------------- mentions


def test_mention_simple_is_extracted() -> None:
    assert extract_mentions("hi @alice") == ["alice"]


def test_mention_is_lowercased() -> None:
    assert extract_mentions("@Alice_Smith") == ["alice_smith"]


def test_mention_followed_by_punctuation_is_extracted() -> None:
    assert extract_mentions("(@alice), @bob. @carol!") == ["alice", "bob", "carol"]


def test_mention_followed_by_korean_honorific_is_extracted() -> None:
    assert extract_mentions("@alice님 안녕하세요") == ["alice"]


def test_mention_preceded_by_korean_letter_is_not_a_mention() -> None:
    assert extract_mentions("안녕@alice") == []


def test_mention_email_address_is_not_a_mention() -> None:
    assert extract_mentions("mail bob@example.com or bob.smith@example.com") == []


def test_mention_in_url_path_is_not_a_mention() -> None:
    assert extract_mentions("https://medium.com/@alice") == []


def test_mention_federated_address_is_not_a_local_mention() -> None:
    assert extract_mentions("@alice@mastodon.social") == []


def test_mention_followed_by_at_sign_is_not_a_mention() -> None:
    assert extract_mentions("@alice@") == []


def test_mention_too_short_is_not_a_mention() -> None:
    assert extract_mentions("@ab") == []


def test_mention_of_minimum_length_is_extracted() -> None:
    assert extract_mentions("@abc") == ["abc"]


def test_mention_of_maximum_length_is_extracted() -> None:
    name = "a" * 30
    assert extract_mentions(f"@{name}") == [name]


def test_mention_over_maximum_length_is_not_a_mention() -> None:
    assert extract_mentions(f"@{'a' * 31} @ok_name") == ["ok_name"]


def test_mention_followed_by_accented_latin_letter_is_not_a_mention() -> None:
    assert extract_mentions("@alicé") == []


def test_mention_followed_by_combining_mark_is_not_a_mention() -> None:
    assert extract_mentions("@alice\u0301") == []


def test_mention_double_at_is_not_a_mention() -> None:
    assert extract_mentions("@@alice") == []


def test_mention_non_ascii_username_is_not_a_mention() -> None:
    assert extract_mentions("@앨리스") == []


def test_mention_duplicates_are_removed_case_insensitively() -> None:
    assert extract_mentions("@Bob @alice @BOB @bob") == ["bob", "alice"]


def test_mention_at_most_fifty_are_returned() -> None:
    text = " ".join(f"@user{i}" for i in range(60))
    assert extract_mentions(text) == [f"user{i}" for i in range(MAX_MENTIONS)]


def test_mention_hashtag_and_mention_do_not_interfere() -> None:
    text = "@alice #python @bob"
    assert (extract_mentions(text), extract_hashtags(text)) == (["alice", "bob"], ["python"])


# --------------------------------------------------------------------------- properties

_word_text = st.text(
    alphabet=st.one_of(
        st.characters(categories=("L", "M", "N", "Pc", "Zs")),
        st.sampled_from("#@&/._-!é\u0301ㅋ가ＡßİΣ"),
    ),
    max_size=200,
)
_any_text = st.one_of(st.text(max_size=300), _word_text)
_USERNAME_RE = re.compile(r"^[a-z0-9_]{3,30}$")


@given(_any_text)
def test_property_hashtag_extraction_never_raises(text: str) -> None:
    extract_hashtags(text)


@given(_any_text)
def test_property_mention_extraction_never_raises(text: str) -> None:
    extract_mentions(text)


@given(_any_text)
def test_property_every_hashtag_appears_after_hash_in_folded_text(text: str) -> None:
    folded = _fold_text(text)
    for tag in extract_hashtags(text):
        assert f"#{tag}" in folded


@given(_any_text)
def test_property_hashtags_are_unique(text: str) -> None:
    tags = extract_hashtags(text)
    assert len(tags) == len(set(tags))


@given(_any_text)
def test_property_hashtags_respect_count_and_length_limits(text: str) -> None:
    tags = extract_hashtags(text)
    assert len(tags) <= MAX_HASHTAGS
    assert all(0 < len(tag) <= MAX_HASHTAG_LENGTH for tag in tags)


@given(_any_text)
def test_property_hashtags_are_already_folded(text: str) -> None:
    assert all(fold_hashtag(tag) == tag for tag in extract_hashtags(text))


@given(_any_text)
def test_property_hashtag_extraction_is_idempotent_on_rejoined_output(text: str) -> None:
    tags = extract_hashtags(text)
    assert extract_hashtags(" ".join("#" + t for t in tags)) == tags


@given(_any_text)
def test_property_mentions_match_username_pattern(text: str) -> None:
    assert all(_USERNAME_RE.fullmatch(m) for m in extract_mentions(text))


@given(_any_text)
def test_property_mentions_are_unique_and_bounded(text: str) -> None:
    mentions = extract_mentions(text)
    assert len(mentions) == len(set(mentions)) <= MAX_MENTIONS


@given(_any_text)
def test_property_mention_extraction_is_idempotent_on_rejoined_output(text: str) -> None:
    mentions = extract_mentions(text)
    assert extract_mentions(" ".join("@" + m for m in mentions)) == mentions
