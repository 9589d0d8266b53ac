"""The simulation wing: discrete-event simulation of a version under a scenario, and storing it.

* :mod:`~boflyt.analysis.simulation.cohort` — :func:`simulate` a cohort of cases (seeded, staff
  capacity, in independent chunks if asked) and :func:`store_cohort` it as one run set;
* :mod:`~boflyt.analysis.simulation.world` — the event loop over working minutes, and
  :mod:`~boflyt.analysis.simulation.drivers` — the fast and the reference (``decide``) driver,
  both executing the case wing's routes;
* :mod:`~boflyt.analysis.simulation.log` — the drivers' records as the store's event frame;
* :mod:`~boflyt.analysis.simulation.result` and :mod:`~boflyt.analysis.simulation.series` —
  lead times, staff, queues and work in progress, and the run's small summary.

It imports no other analysis module: the rest of the analysis reads the logs it writes.
"""

from boflyt.analysis.simulation.cohort import (
    calendar_of,
    chunk_size,
    simulate,
    simulate_chunk,
    store_cohort,
    store_cohort_files,
)
from boflyt.analysis.simulation.log import SLICE_ROWS, frame_slices, log_records, to_frame
from boflyt.analysis.simulation.result import SimulationResult, build_result, merge_results
from boflyt.analysis.simulation.series import Series, daily_levels, summarise

__all__ = [
    "SLICE_ROWS",
    "Series",
    "SimulationResult",
    "build_result",
    "calendar_of",
    "chunk_size",
    "daily_levels",
    "frame_slices",
    "log_records",
    "merge_results",
    "simulate",
    "simulate_chunk",
    "store_cohort",
    "store_cohort_files",
    "summarise",
    "to_frame",
]
