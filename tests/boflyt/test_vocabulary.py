"""One vocabulary: every bokmål screen, diagram and report speaks bokmål, and the docs' glossary
(docs/reference/glossary.md) is the catalogue's.

The English-only words are the catalogue's own: the words (four letters or more) of every English
entry whose bokmål differs, less any word bokmål uses too (``status``, ``median``, ``transport``).
A bokmål screen that shows one of them, as a whole word in any case, fails here.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boflyt.cli import app
from boflyt.engine.definition.load import load_library
from boflyt.models.definition import Version
from boflyt.models.words import entries, glossary_markdown

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY_PAGE = "docs/reference/glossary.md"
LIBRARY = load_library(ROOT / "processes")
FNR = "01017012345"  # synthetic
runner = CliRunner()


def _words(text: str) -> set[str]:
    """Its words of four letters or more, lower case; ``{placeholders}`` are not words."""
    return {w.lower() for w in re.findall(r"[^\W\d_]{4,}", re.sub(r"\{\w*\}", " ", text))}


def _texts(value: object) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in dict(value).values()]  # type: ignore[call-overload]


SHARED = frozenset({"data"})
"""English words that are bokmål words too, though the catalogue's bokmål does not use them."""


def english_only() -> frozenset[str]:
    """Words of the English catalogue that bokmål never uses."""
    nb, en = entries("nb"), entries("en")
    bokmal = {w for value in nb.values() for text in _texts(value) for w in _words(text)}
    found = {
        w
        for key, value in en.items()
        if not key.startswith("format.") and value != nb[key]
        for text in _texts(value)
        for w in _words(text)
    }
    return frozenset(found - bokmal - SHARED)


ENGLISH = english_only()
_WORD = re.compile(
    r"(?<![\w-])(" + "|".join(sorted(ENGLISH, key=len, reverse=True)) + r")(?![\w-])", re.I
)


_CODE = re.compile(r"\S*/\S*|\bboflyt [a-z]+(?: [a-z]+)?")
"""File paths and command lines (``reports/index.html``, ``boflyt runs list``): names, not words."""


def leaks(text: str) -> list[str]:
    """English-only catalogue words in ``text`` (whole words; ids like ``case_started``, paths
    and command lines are not words)."""
    return sorted({m.group(1) for m in _WORD.finditer(_CODE.sub(" ", text))})


class _Visible(HTMLParser):
    """The text a reader sees in HTML or SVG: no tags, attributes, CSS, scripts or SVG titles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in ("style", "script", "title")

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("style", "script", "title")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible(markup: str) -> str:
    """The visible text of ``markup``, its whitespace (and diagram line breaks) as single spaces."""
    parser = _Visible()
    parser.feed(markup)
    return " ".join(" ".join(parser.parts).split())


def test_the_list_of_english_only_words_is_the_catalogues() -> None:
    assert {"case", "running", "handoffs", "lead", "waste", "cases", "organisation"} <= ENGLISH
    assert not {"status", "median", "transport", "start"} & ENGLISH
    assert leaks("Case 1 · running") == ["Case", "running"]
    assert leaks("sak case_started · private_lease · e-post") == []
    assert leaks("Åpne rapportene: /tmp/x/reports/index.html (boflyt runs list)") == []


def test_the_docs_glossary_is_generated_from_the_catalogue() -> None:
    page = (ROOT / GLOSSARY_PAGE).read_text(encoding="utf-8")
    start, end = "<!-- glossary: start -->\n", "<!-- glossary: end -->"
    assert start in page and end in page, f"{GLOSSARY_PAGE} has no generated glossary block"
    block = page.split(start, 1)[1].split(end, 1)[0]
    assert block.strip() == glossary_markdown().strip(), (
        f"run: boflyt glossary --write {GLOSSARY_PAGE}"
    )


def test_boflyt_glossary_prints_it_and_rewrites_a_readme_block(tmp_path: Path) -> None:
    assert _ok("glossary") == glossary_markdown()
    readme = tmp_path / "README.md"
    readme.write_text("# X\n<!-- glossary: start -->\nold\n<!-- glossary: end -->\ntail\n", "utf-8")
    _ok("glossary", "--write", str(readme))
    text = readme.read_text(encoding="utf-8")
    assert "old" not in text and "| `inventory` | lager | inventory |" in text
    assert text.startswith("# X\n") and text.endswith("<!-- glossary: end -->\ntail\n")
    readme.write_text("no markers\n", "utf-8")
    result = runner.invoke(app, ["glossary", "--readme", str(readme)])
    assert result.exit_code == 1 and "no '<!-- glossary: start -->'" in result.output


def test_every_outcome_of_the_seed_library_has_a_bokmal_and_an_english_label() -> None:
    unlabelled = [
        f"{v.key} {t.source} → {t.target} [{t.outcome}]"
        for process in LIBRARY.processes()
        for v in LIBRARY.entries(process)
        if isinstance(v, Version)
        for t in v.transitions
        if t.outcome and (t.label is None or "_" in t.label.nb)
    ]
    assert unlabelled == []


def _ok(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_case_screens_are_bokmal(staff: object) -> None:
    started = _ok("case", "start", "private_lease", "--version", "1", "--as", "kari",
                  "--org", "nav", "--at", "2025-01-06T08:30", stdin=FNR + "\n")  # fmt: skip
    case = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", started).group(0)
    version = LIBRARY.get("private_lease", 1)
    first = version.transitions[0].target
    screens = {"start": started}
    screens["complete"] = _ok("case", "complete", case[:8], first, "--as", "kari", "--org", "nav",
                              "--minutes", "1234.5", "--at", "2025-01-07T09:00")  # fmt: skip
    decision = _ok("inbox", "nav", "--at", "2025-01-08T09:00")
    screens["inbox"] = decision
    step = next(t for t in version.transitions if t.outcome).source
    _ok("case", "complete", case[:8], step, "--as", "kari", "--org", "nav", "--outcome",
        "in_target_group", "--at", "2025-01-08T10:00")  # fmt: skip
    screens["show"] = _ok("case", "show", case[:8])
    screens["list"] = _ok("case", "list")
    screens["cancel"] = _ok("case", "cancel", case[:8], "--as", "kari", "--org", "nav",
                            "--at", "2025-01-09T10:00")  # fmt: skip
    assert "i målgruppen" in screens["show"]  # the outcome's bokmål label, not its id
    assert "1\u202f234,5 min" in screens["show"]
    assert "1 sak" in screens["list"]
    assert {name: leaks(text) for name, text in screens.items()} == {name: [] for name in screens}


@pytest.mark.parametrize(
    "args",
    [
        ("versions",),
        ("show", "private_lease@v1"),
        ("show", "eviction_prevention@v2"),
        ("diff", "refugee_settlement", "1", "2"),
        ("validate",),
        ("analyse", "refugee_settlement@v1"),
        ("compare", "private_lease", "1", "2"),
        ("runs", "list"),
    ],
    ids=lambda args: " ".join(args),
)
def test_the_process_owner_and_facilitator_screens_are_bokmal(
    cli_folder: Path, args: tuple[str, ...]
) -> None:
    assert leaks(_ok(*args)) == []


def test_a_swimlane_svg_is_bokmal(cli_folder: Path) -> None:
    svg = cli_folder / "v2.svg"
    _ok("draw", "eviction_prevention@v2", "-o", str(svg))
    text = visible(svg.read_text(encoding="utf-8"))
    assert "betaler eller får utsettelse" in text and "trenger hjelp" in text
    assert leaks(text) == []


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_the_demo_and_its_reports_are_bokmal(cli_folder: Path) -> None:
    summary = _ok("demo", "--cases", "10")
    assert leaks(summary) == []
    reports = sorted((cli_folder / "reports").glob("*.html"))
    assert len(reports) == 4  # three processes and the index
    found = {path.name: leaks(visible(path.read_text(encoding="utf-8"))) for path in reports}
    assert found == {path.name: [] for path in reports}
