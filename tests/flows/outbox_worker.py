"""A sending worker for the crash test: a forked process running :func:`main` (or
``python -m tests.flows.outbox_worker URL PORT``).

Says ``ready`` once its store is open, then sends the outbox until nothing is due (batches of
5). The test kills it with SIGKILL at a random moment.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable

from boflyt.engine.store.db import make_engine
from boflyt.engine.store.outbox import Recipient
from boflyt.flows.outbox import SmtpServer, send_outbox
from boflyt.models.words import ENGLISH

RECIPIENTS = {
    "housing_office": Recipient("bolig@kommune.example"),
    "nav": Recipient("nav@kommune.example"),
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _say(text: str) -> None:
    print(text, flush=True)


def main(url: str, port: int, say: Callable[[str], None] = _say) -> None:
    """Send until nothing is due, saying ``ready`` first and ``done`` at the end."""
    engine = make_engine(url)
    server = SmtpServer("127.0.0.1", port, "boflyt@kommune.example", timeout=2.0)
    say("ready")
    while True:
        report = send_outbox(engine, RECIPIENTS, server, base_url="https://boflyt.example",
                             lang=ENGLISH, now=_now, limit=5)  # fmt: skip
        if not (report.sent or report.retry or report.failed or report.uncertain):
            break
    say("done")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
