"""The one ``--lang`` option of every command: any language the word catalogue has a file for.

The choices are read from :func:`boflyt.models.words.languages`, so a new language file (say
``nn.toml``) is a new ``--lang nn`` with no code change here or in the commands. A command's own
group of words in the chosen language is a :class:`Words`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from boflyt.models.words import DEFAULT_LANGUAGE, Language, language, languages, word
from boflyt.settings import get_settings

__all__ = ["LangOption", "Words", "chosen", "parse_language"]


def parse_language(text: str) -> str:
    """``text`` when a language file has that code; else a usage error naming the known ones."""
    known = languages()
    if text not in known:
        raise typer.BadParameter(f"unknown language '{text}'; known languages: {', '.join(known)}")
    return text


LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang",
        "-l",
        parser=parse_language,
        metavar="LANG",
        help=f"Language of every word: {', '.join(languages())} "
        f"(default: BOFLYT_LANG, else {DEFAULT_LANGUAGE}).",
        show_default=False,
    ),
]
"""``--lang`` / ``-l``: one of the catalogue's languages; ``None`` means the settings decide."""


def chosen(lang: str | None) -> Language:
    """The language asked for, else the one the settings name (``BOFLYT_LANG``, else bokmål)."""
    return language(lang) if lang is not None else get_settings().lang


class Words:
    """One group of the word catalogue in one language, indexed like a dict.

    >>> from boflyt.models.words import ENGLISH
    >>> Words("case", ENGLISH)["ready"] == word("case.ready", ENGLISH)
    True
    """

    def __init__(self, group: str, lang: Language) -> None:
        self.group = group
        self.lang = lang

    def __getitem__(self, key: str) -> str:
        return word(f"{self.group}.{key}", self.lang)
