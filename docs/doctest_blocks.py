"""A griffe extension for the API pages: Boflyt's reST-flavoured docstrings read as Markdown.

The docstrings are written for Python's tools (doctest, Sphinx roles); mkdocstrings reads them as
Markdown, where ``>>>`` is a nested quote, ``['a']`` a link and ``====`` a heading rule. Three
rewrites: a run of doctest lines outside a fence (from ``>>>`` to the next blank line) is fenced
as ``pycon``; a reST simple table (three ``===`` rules) is fenced as text; a Sphinx role
(``:func:`~boflyt.engine.case.decide.decide```) becomes inline code of the name it shows.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

__all__ = ["DoctestBlocks", "fence_doctests", "fence_tables", "plain_roles"]

ROLE = re.compile(r":(?:func|meth|class|mod|data|attr|exc|obj):`(~?)([^`]+)`")
RULE = re.compile(r"^\s*=+(?:\s+=+)*\s*$")


def fence_doctests(text: str) -> str:
    """``text`` with every doctest example block fenced as ``pycon`` code.

    >>> fence_doctests("Sum.\\n\\n>>> 1 + 1\\n2\\n\\nEnd.")
    'Sum.\\n\\n```pycon\\n>>> 1 + 1\\n2\\n```\\n\\nEnd.'
    """
    out: list[str] = []
    in_fence = in_example = False
    for line in text.split("\n"):
        if in_example and not line.strip():
            out.append("```")
            in_example = False
        elif line.lstrip().startswith("```") and not in_example:
            in_fence = not in_fence
        elif line.lstrip().startswith(">>>") and not (in_fence or in_example):
            out.append(line[: len(line) - len(line.lstrip())] + "```pycon")
            in_example = True
        out.append(line)
    if in_example:
        out.append("```")
    return "\n".join(out)


def fence_tables(text: str) -> str:
    """``text`` with every reST simple table (top, header and bottom ``===`` rules) fenced.

    >>> fence_tables("=  =\\na  b\\n=  =\\n1  2\\n=  =\\nafter")
    '```text\\n=  =\\na  b\\n=  =\\n1  2\\n=  =\\n```\\nafter'
    """
    out: list[str] = []
    rules = 0
    for line in text.split("\n"):
        if RULE.match(line) and line.strip():
            if rules == 0:
                out.append("```text")
            rules += 1
        out.append(line)
        if rules == 3:
            out.append("```")
            rules = 0
    if rules:
        out.append("```")
    return "\n".join(out)


def plain_roles(text: str) -> str:
    """``text`` with each Sphinx role as inline code of the name it shows (``~``: the last part).

    >>> plain_roles("see :func:`~boflyt.engine.case.decide.decide` and :mod:`boflyt.flows`")
    'see `decide` and `boflyt.flows`'
    """
    return ROLE.sub(lambda m: f"`{m[2].rsplit('.', 1)[-1] if m[1] else m[2]}`", text)


class DoctestBlocks(griffe.Extension):
    """Make every docstring griffe loads read as Markdown: examples, tables, roles."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring in place (griffe calls this once per object)."""
        if obj.docstring is not None:
            text = fence_tables(fence_doctests(obj.docstring.value))
            obj.docstring.value = plain_roles(text)
