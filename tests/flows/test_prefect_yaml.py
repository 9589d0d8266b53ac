"""prefect.yaml parses, and every deployment's entrypoint imports and names a flow."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
DEPLOYMENTS = CONFIG["deployments"]


def test_there_is_one_deployment_per_flow_on_the_process_pool() -> None:
    names = {d["name"] for d in DEPLOYMENTS}
    assert names == {
        "simulate-version",
        "compare-versions",
        "escalate-overdue",
        "deadline-notices",
        "retention",
    }
    assert {d["work_pool"]["name"] for d in DEPLOYMENTS} == {"boflyt-process"}


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: d["name"])
def test_entrypoint_is_a_module_path_of_the_installed_package(deployment) -> None:
    from prefect import Flow
    from prefect.flows import load_flow_from_entrypoint

    entrypoint = deployment["entrypoint"]
    assert ":" not in entrypoint  # a colon makes Prefect look for a file in the working folder
    assert entrypoint.startswith("boflyt.flows.")
    flow = load_flow_from_entrypoint(entrypoint, use_placeholder_flow=False)
    assert isinstance(flow, Flow)
    assert flow.fn.__module__ == entrypoint.rsplit(".", 1)[0]
    assert set(deployment.get("parameters", {})) <= set(flow.parameters.properties)
    required = set(flow.parameters.required or [])
    assert required <= set(deployment.get("parameters", {}))


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: d["name"])
def test_the_store_comes_from_a_secret_block_named_in_the_environment(deployment) -> None:
    env = deployment["work_pool"]["job_variables"]["env"]
    assert env == {"BOFLYT_DATABASE_URL_SECRET": "boflyt-database-url"}
    assert not {"database_url", "url", "dsn"} & set(deployment.get("parameters", {}))
    # `prefect deploy` resolves block templates and would store the plain URL
    assert "prefect.blocks" not in yaml.safe_dump(deployment)


def test_escalation_runs_daily_in_oslo_time() -> None:
    (escalation,) = [d for d in DEPLOYMENTS if d["name"] == "escalate-overdue"]
    (schedule,) = escalation["schedules"]
    assert schedule["timezone"] == "Europe/Oslo"
    _, _, day, month, weekday = schedule["cron"].split()
    assert (day, month, weekday) == ("*", "*", "*")


def test_deadline_notices_run_on_weekday_mornings_in_oslo_time() -> None:
    (notices,) = [d for d in DEPLOYMENTS if d["name"] == "deadline-notices"]
    (schedule,) = notices["schedules"]
    assert schedule["timezone"] == "Europe/Oslo"
    _, hour, day, month, weekday = schedule["cron"].split()
    assert (day, month, weekday) == ("*", "*", "1-5")  # holidays: the flow skips them
    assert 6 <= int(hour) <= 8


def test_retention_runs_nightly_in_oslo_time_with_no_parameters() -> None:
    (retention,) = [d for d in DEPLOYMENTS if d["name"] == "retention"]
    (schedule,) = retention["schedules"]
    assert schedule["timezone"] == "Europe/Oslo" and schedule["active"] is True
    _, hour, day, month, weekday = schedule["cron"].split()
    assert (day, month, weekday) == ("*", "*", "*") and 0 <= int(hour) <= 5
    assert retention["parameters"] == {}  # the periods are the worker's boflyt.toml
