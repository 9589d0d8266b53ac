"""The engine: Boflyt's core, in three wings and one calendar.

* :mod:`boflyt.engine.definition` — process versions read from YAML, validated once, compared;
* :mod:`boflyt.engine.case` — one case's life as a pure state machine over a compiled flow;
* :mod:`boflyt.engine.store` — cases, work items and the event log in SQLite or PostgreSQL;
* :mod:`boflyt.engine.calendar` — the one working-time calendar (Norwegian holidays).

The store builds on the case and definition wings; those two never import each other, nor the
store, nor SQL (import-linter's contracts in ``pyproject.toml``). ``__all__`` names the wings
only and this module imports none of them: importing the pure case wing must not load the
store's SQL libraries, and every command imports only the wing it uses.
"""

__all__ = ["calendar", "case", "definition", "store"]
