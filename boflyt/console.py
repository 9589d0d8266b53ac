"""Shared console output for the command line: one rich console, one way to fail."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal, NoReturn, TypeVar

import typer
from rich.console import Console

from boflyt.models.errors import BoflytError

__all__ = ["Lang", "console", "err_console", "fail", "friendly_errors"]

T = TypeVar("T")
Lang = Literal["nb", "en"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def fail(message: str, *, code: int = 1) -> NoReturn:
    """Print one clear error line to stderr and exit non-zero."""
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn any :class:`BoflytError` into a clear message and exit code 1 — never a traceback."""
    try:
        yield
    except BoflytError as exc:
        fail(str(exc))


def call(fn: Callable[[], T]) -> T:
    """Run ``fn`` under :func:`friendly_errors`."""
    with friendly_errors():
        return fn()
