"""A griffe extension for the API pages: Boflyt's reST-flavoured docstrings read as Markdown.

The docstrings are written for Python's tools (doctest, Sphinx roles); mkdocstrings reads them as
Markdown, where ``>>>`` is a nested quote, ``['a']`` a link and ``====`` a heading rule. Three
rewrites: a run of doctest lines outside a fence (from ``>>>`` to the next blank line) is fenced
as ``pycon``; a reST simple table (three ``===`` rules) is fenced as text; a Sphinx role
(``:func:`~boflyt.engine.case.decide.decide```) becomes inline code of the name it shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import griffe

__all__ = ["DoctestBlocks", "fence_doctests", "fence_tables", "plain_roles"]

ROLE = re.compile(r":(?:func|meth|class|mod|data|attr|exc|obj):`(~?)([^`]+)`")
RULE = re.compile(r"^\s*=+(?:\s+=+)*\s*$")

Block = tuple[int, int, str]
"""Lines ``[start, end)`` to fence and the fence line that opens them (a bare one closes them)."""


def fence_doctests(text: str) -> str:
    """``text`` with every doctest example block fenced as ``pycon`` code.

    >>> fence_doctests("Sum.\\n\\n>>> 1 + 1\\n2\\n\\nEnd.")
    'Sum.\\n\\n```pycon\\n>>> 1 + 1\\n2\\n```\\n\\nEnd.'
    """
    return _fenced(text, _examples)


def _examples(lines: list[str]) -> Iterator[Block]:
    """Each run of doctest lines outside a fence: from ``>>>`` to the next blank line."""
    in_fence, start = False, None
    for number, line in enumerate(lines):
        if start is not None and not line.strip():
            yield start, number, _indent(lines[start]) + "```pycon"
            start = None
        elif line.lstrip().startswith("```") and start is None:
            in_fence = not in_fence
        elif line.lstrip().startswith(">>>") and not in_fence and start is None:
            start = number
    if start is not None:
        yield start, len(lines), _indent(lines[start]) + "```pycon"


def fence_tables(text: str) -> str:
    """``text`` with every reST simple table (top, header and bottom ``===`` rules) fenced.

    >>> fence_tables("=  =\\na  b\\n=  =\\n1  2\\n=  =\\nafter")
    '```text\\n=  =\\na  b\\n=  =\\n1  2\\n=  =\\n```\\nafter'
    """
    return _fenced(text, _tables)


def _tables(lines: list[str]) -> Iterator[Block]:
    """Each reST simple table: from its first ``===`` rule to its third (or the end)."""
    rules = [number for number, line in enumerate(lines) if RULE.match(line) and line.strip()]
    for first in range(0, len(rules), 3):
        table = rules[first : first + 3]
        end = table[-1] + 1 if len(table) == 3 else len(lines)
        yield table[0], end, "```text"


def _fenced(text: str, blocks_of: Callable[[list[str]], Iterable[Block]]) -> str:
    """``text`` with each block that ``blocks_of`` finds in its lines between the block's opening
    fence and a closing ```` ``` ````."""
    lines = text.split("\n")
    out: list[str] = []
    done = 0
    for start, end, opening in blocks_of(lines):
        out += [*lines[done:start], opening, *lines[start:end], "```"]
        done = end
    return "\n".join(out + lines[done:])


def _indent(line: str) -> str:
    """The white space ``line`` starts with."""
    return line[: len(line) - len(line.lstrip())]


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
