"""Diagrams and reports: extract, then render; renderers never read YAML or the database.

* :mod:`~boflyt.visualize.diagram` and :mod:`~boflyt.visualize.value_stream` — the neutral
  models; :mod:`~boflyt.visualize.extraction` builds them from versions and their figures,
  :mod:`~boflyt.visualize.measured_timeline` a value stream from a run set's event frame;
* :mod:`~boflyt.visualize.swimlane`, :mod:`~boflyt.visualize.side_by_side`,
  :mod:`~boflyt.visualize.timeline` and :mod:`~boflyt.visualize.charts` — one renderer each, with
  :mod:`~boflyt.visualize.layout`, :mod:`~boflyt.visualize.swimlane_header`,
  :mod:`~boflyt.visualize.wording` and :mod:`~boflyt.visualize.svg` as their helpers;
  :mod:`~boflyt.visualize.render` runs Graphviz;
* :mod:`~boflyt.visualize.report` — the before/after HTML report (``templates/``), worded by
  :mod:`~boflyt.visualize.report_text` and :mod:`~boflyt.visualize.run_set_text`.

``__all__`` names the modules and this module imports none of them: the renderers load
matplotlib, jinja2 or Graphviz, which a command that draws one diagram should not all pay for.
"""

__all__ = [
    "charts",
    "diagram",
    "extraction",
    "layout",
    "measured_timeline",
    "render",
    "report",
    "report_text",
    "run_set_text",
    "side_by_side",
    "svg",
    "swimlane",
    "swimlane_header",
    "timeline",
    "value_stream",
    "wording",
]
