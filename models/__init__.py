"""The data shapes every layer shares, one module each.

* :mod:`~boflyt.models.errors` — the exception tree;
* :mod:`~boflyt.models.vocabulary` — closed vocabularies (step kinds, wastes, channels, …);
* :mod:`~boflyt.models.words` — the word catalogue and the ``Language`` type;
* :mod:`~boflyt.models.definition` — frozen pydantic models of a process version;
* :mod:`~boflyt.models.scenario` — simulation scenarios;
* :mod:`~boflyt.models.events` — events of the append-only log;
* :mod:`~boflyt.models.runset` — named sets of runs (live, simulated, imported);
* :mod:`~boflyt.models.tables` — the SQL tables (only the store wing uses them).

``__all__`` names the modules and this module imports none of them: the CLI reads the errors
before anything heavy is loaded (``boflyt --help`` imports no pydantic), and the pure core must
never load SQLModel through :mod:`~boflyt.models.tables`.
"""

__all__ = [
    "definition",
    "errors",
    "events",
    "runset",
    "scenario",
    "tables",
    "vocabulary",
    "words",
]
