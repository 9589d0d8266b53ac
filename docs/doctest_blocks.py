"""A griffe extension for the API pages: doctest examples in a docstring's body shown as code.

Boflyt's docstrings put their doctests in the body (``>>> likely_path(v)[0]``), where doctest runs
them; Markdown would read ``>>>`` as nested quotes and ``['a']`` as a link. This wraps each run of
example lines (from a ``>>>`` line to the next blank line) in a ``pycon`` fence, outside fences.
"""

from __future__ import annotations

from typing import Any

import griffe

__all__ = ["DoctestBlocks", "fence_doctests"]


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


class DoctestBlocks(griffe.Extension):
    """Fence the doctest blocks of every docstring griffe loads."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring in place (griffe calls this once per object)."""
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
