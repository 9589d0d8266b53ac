"""Event-log and model formats Boflyt exchanges with other tools.

Readers turn a municipality's exported log (XES, CSV, Parquet) into one *raw log frame*
(:mod:`boflyt.formats.log_frame`); the import makes Boflyt events of it. Writers hand Boflyt's
own run sets and versions to process-mining and modelling tools: XES (IEEE 1849-2023), OCEL 2.0
JSON, CSV/Parquet and BPMN 2.0 with diagram interchange. Modules are imported by name; this
package imports none of them.
"""

__all__: list[str] = []
