"""Analysis: what a version's design promises and what its runs show, side by side.

* :mod:`~boflyt.analysis.design` and :mod:`~boflyt.analysis.chain` — expected figures from the
  definition alone (absorbing Markov chain: lead time, touch time, handoffs, rework);
* :mod:`~boflyt.analysis.waste` — LEAN waste and duplicate registrations found in a definition;
* :mod:`~boflyt.analysis.observed` (with :mod:`~boflyt.analysis.observed_cases` and
  :mod:`~boflyt.analysis.observed_tables`) and :mod:`~boflyt.analysis.outcomes` — measured
  figures from an event log, vectorised;
  :mod:`~boflyt.analysis.accuracy` — observed %C&A (from go-backs) and the activity ratio;
* :mod:`~boflyt.analysis.trends` — the measured figures per calendar month, small groups
  suppressed;
* :mod:`~boflyt.analysis.conformance` — how far runs keep to a version (on the step pairs
  :mod:`~boflyt.analysis.step_pairs` allows);
  :mod:`~boflyt.analysis.discovery` — the as-is flow drafted from an event log (its
  directly-follows graph in :mod:`~boflyt.analysis.follows`, the draft's data in
  :mod:`~boflyt.analysis.draft`);
* :mod:`~boflyt.analysis.compare` (worded by :mod:`~boflyt.analysis.compare_text`) — before and
  after with confidence intervals; :mod:`~boflyt.analysis.report_data` gathers what a report needs;
* :mod:`~boflyt.analysis.simulation` — the discrete-event simulator that writes event logs;
  :mod:`~boflyt.analysis.calibration` fits its scenario from an imported log, and
  :mod:`~boflyt.analysis.log_distance` measures how far a simulated log lies from a real one.

Working time comes from :mod:`boflyt.engine.calendar`. ``__all__`` names the modules and this
module imports none of them: each pulls in polars, numpy or the simulator, and a caller should pay
only for what it uses.
"""

__all__ = [
    "accuracy",
    "calibration",
    "chain",
    "compare",
    "compare_text",
    "conformance",
    "design",
    "discovery",
    "draft",
    "follows",
    "log_distance",
    "observed",
    "observed_cases",
    "observed_tables",
    "outcomes",
    "report_data",
    "simulation",
    "step_pairs",
    "trends",
    "waste",
]
