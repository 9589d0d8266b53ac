"""The documentation points at things that exist: links, files, the module map, the commands.

A clone has only the repository, so every relative link of the README, CONTRIBUTING, the docs
site and the benchmark notes must name a file in it, and so must every source file they name;
CONTRIBUTING's map lists every module of the package (and no module that is gone); the
command-line reference lists every command.
"""

from __future__ import annotations

import doctest
import importlib.util
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer

from boflyt.cli import app

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(
    [
        ROOT / "README.md",
        ROOT / "CONTRIBUTING.md",
        ROOT / "bench" / "README.md",
        *(ROOT / "docs").rglob("*.md"),
    ]
)
SOURCE = ["models", "engine", "analysis", "visualize", "flows", "boflyt"]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
CODE = re.compile(r"`[^`\n]*`")


def relative_links(page: Path) -> list[str]:
    """The relative link targets of a Markdown page, outside code, without their #fragment."""
    text = CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))
    targets = (m.group(1).split("#", 1)[0] for m in LINK.finditer(text))
    return [t for t in targets if t and not re.match(r"[a-z][a-z0-9+.-]*:", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_names_a_file_of_the_repository(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        path = (page.parent / target).resolve()
        if not path.exists() or not path.is_relative_to(ROOT):
            broken.append(target)
    assert broken == [], f"{page.relative_to(ROOT)}: links to missing files: {broken}"


FILE_PATH = re.compile(
    r"`((?:models|engine|analysis|visualize|flows|boflyt|tests|bench)/[\w./-]*\.py)`"
)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_source_file_a_page_names_exists(page: Path) -> None:
    named = FILE_PATH.findall(page.read_text(encoding="utf-8"))
    assert [path for path in named if not (ROOT / path).exists()] == []


def test_the_link_finder_skips_code_and_urls(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(
        "[a](a.md#x) ![i](img/i.png) [w](https://x.org) [h](#top) `[c](code.md)`\n"
        "```\n[f](fenced.md)\n```\n",
        encoding="utf-8",
    )
    assert relative_links(page) == ["a.md", "img/i.png"]


def package_modules() -> set[str]:
    """Every module file of the package source git knows, as a repository path.

    The migrations folder is one entry; ``__init__`` modules are their package's heading.
    """
    listed = subprocess.run(
        ["git", "ls-files", "--", *(f"{top}/*.py" for top in SOURCE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        "engine/store/migrations/" if "/migrations/" in rel else rel
        for rel in listed
        if not rel.endswith("__init__.py") and (ROOT / rel).exists()
    }


def mapped_modules() -> set[str]:
    """The paths in the first column of CONTRIBUTING's module map."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([\w/]+(?:\.py|/))` \|", text, re.M))


def test_contributing_maps_every_module_of_the_package() -> None:
    assert sorted(package_modules() - mapped_modules()) == []


def test_contributing_maps_no_module_that_is_gone() -> None:
    gone = [p for p in mapped_modules() if not (ROOT / p).exists()]
    assert gone == []


def command_names(group: Any, prefix: str = "boflyt") -> list[str]:
    """Every command line of a typer or click group: ``boflyt validate``, ``boflyt case start``."""
    ctx = group.context_class(group)
    names = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if hasattr(command, "list_commands"):
            names += command_names(command, f"{prefix} {name}")
        else:
            names.append(f"{prefix} {name}")
    return names


def test_the_command_line_reference_lists_every_command() -> None:
    names = command_names(typer.main.get_command(app))
    reference = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    assert len(names) > 15 and "boflyt case start" in names
    assert [name for name in names if f"`{name}" not in reference] == []


def test_the_api_pages_docstring_rewrites_do_what_their_examples_show() -> None:
    spec = importlib.util.spec_from_file_location(
        "doctest_blocks", ROOT / "docs" / "doctest_blocks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = doctest.testmod(module)
    assert result.attempted >= 3 and result.failed == 0


def test_the_readme_stays_short_and_points_at_the_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    assert "make demo" in readme and "make test" in readme and "(docs/" in readme
