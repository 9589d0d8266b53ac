"""The word catalogue: every language has every word, numbers are written one way per language."""

from __future__ import annotations

import doctest
import shutil
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

import pytest

from boflyt.models import vocabulary, words
from boflyt.models.words import count, entries, format_number, languages, term, word

ENUMS = [
    value
    for value in vars(vocabulary).values()
    if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum
]


def test_bokmal_and_english_are_shipped() -> None:
    assert {"nb", "en"} <= set(languages())


@pytest.mark.parametrize("lang", languages())
def test_every_language_has_every_key(lang: str) -> None:
    reference = entries(words.DEFAULT_LANGUAGE)
    found = entries(lang)
    assert sorted(set(reference) - set(found)) == [], f"missing in {lang}.toml"
    assert sorted(set(found) - set(reference)) == [], f"only in {lang}.toml"
    for key, value in reference.items():
        assert type(found[key]) is type(value), f"{key}: a word in one file, forms in another"
        if isinstance(value, dict):
            assert set(found[key]) == set(value) == {"one", "other"}, key


@pytest.mark.parametrize("lang", languages())
def test_every_word_of_the_closed_vocabularies_is_there(lang: str) -> None:
    missing = []
    for enum in ENUMS:
        for member in enum:
            try:
                term(member, lang)
            except KeyError:
                missing.append(f"{enum.__name__}.{member.name}")
    assert missing == []


def test_a_missing_key_fails_loudly() -> None:
    with pytest.raises(KeyError, match="no_such_word"):
        word("term.no_such_word", "nb")


def test_an_unknown_language_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known languages: en, nb"):
        word("term.case", "xx")


@pytest.mark.parametrize(
    ("value", "lang", "digits", "expected"),
    [
        (1234.56, "nb", 1, "1\u202f234,6"),
        (1234.56, "en", 1, "1,234.6"),
        (-0.04, "nb", 1, "0,0"),
        (-12.5, "nb", 0, "−12"),
        (1_000_000, "nb", 0, "1\u202f000\u202f000"),
        (0.5, "en", 2, "0.50"),
    ],
)
def test_numbers_follow_the_language(value: float, lang: str, digits: int, expected: str) -> None:
    assert format_number(value, lang, digits) == expected


def test_counted_words_agree_with_their_number() -> None:
    assert count("word.cases", 1, "nb") == "1 sak"
    assert count("word.cases", 2, "nb") == "2 saker"
    assert count("word.cases", 2, "en") == "2 cases"
    assert count("word.cases", 12_000, "nb") == "12\u202f000 saker"


def test_one_word_per_concept_in_bokmal() -> None:
    every = " ".join(v for v in entries("nb").values() if isinstance(v, str)).lower()
    for unwanted in ("ledetid", "overbehandling", "lager/kø", "%c&a", "virkedag"):
        assert unwanted not in every


@pytest.fixture
def fresh_catalogue() -> Iterator[None]:
    words._load.cache_clear()
    yield
    words._load.cache_clear()


@pytest.mark.usefixtures("fresh_catalogue")
def test_a_new_language_is_a_new_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in words.FOLDER.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    text = (tmp_path / "nb.toml").read_text(encoding="utf-8").replace('"avbrutt"', '"avbroten"')
    (tmp_path / "nn.toml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(words, "FOLDER", tmp_path)
    assert "nn" in languages()
    assert term(vocabulary.RunStatus.CANCELLED, "nn") == "avbroten"
    assert format_number(1234.5, "nn") == "1\u202f234,5"


def test_docstring_examples() -> None:
    result = doctest.testmod(words, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
