"""The examples in the analysis modules' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "boflyt.analysis.chain",
    "boflyt.analysis.compare",
    "boflyt.analysis.compare_text",
    "boflyt.analysis.conformance",
    "boflyt.analysis.design",
    "boflyt.analysis.observed",
    "boflyt.analysis.outcomes",
    "boflyt.analysis.step_pairs",
    "boflyt.analysis.waste",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
