"""prefect.yaml parses, and every deployment's entrypoint imports and names a flow."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
DEPLOYMENTS = CONFIG["deployments"]


def test_there_is_one_deployment_per_flow_on_the_process_pool() -> None:
    names = {d["name"] for d in DEPLOYMENTS}
    assert names == {"simulate-version", "compare-versions", "escalate-overdue"}
    assert {d["work_pool"]["name"] for d in DEPLOYMENTS} == {"boflyt-process"}


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: d["name"])
def test_entrypoint_imports_and_is_a_flow(deployment) -> None:
    from prefect import Flow

    path, name = deployment["entrypoint"].split(":")
    assert (ROOT / path).is_file()
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    flow = getattr(module, name)
    assert isinstance(flow, Flow)
    assert set(deployment.get("parameters", {})) <= set(flow.parameters.properties)
    required = set(flow.parameters.required or [])
    assert required <= set(deployment.get("parameters", {}))


def test_escalation_runs_daily_in_oslo_time() -> None:
    (escalation,) = [d for d in DEPLOYMENTS if d["name"] == "escalate-overdue"]
    (schedule,) = escalation["schedules"]
    assert schedule["timezone"] == "Europe/Oslo"
    _, _, day, month, weekday = schedule["cron"].split()
    assert (day, month, weekday) == ("*", "*", "*")
