"""Failure alerting for the webshop DAGs: a structured log line, and a webhook if configured.

`on_failure_alert` is every task's `on_failure_callback`: it runs after the last retry failed.
It logs one JSON line (logger `webshop.alert`, level ERROR) that log shippers can match on, and
when `ALERT_WEBHOOK_URL` is set it POSTs the same JSON there (Slack/Teams/Alertmanager style
receivers all accept a JSON body). A broken webhook never masks the task's own failure: its
error is logged and swallowed.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from datetime import datetime
from typing import Any

log = logging.getLogger("webshop.alert")

WEBHOOK_TIMEOUT_S = 10


def build_alert(context: dict[str, Any]) -> dict[str, Any]:
    """The alert payload from a task's failure context (only JSON-safe values)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    exception = context.get("exception")
    return {
        "event": "webshop.task_failed",
        "severity": "error",
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(ti, "run_id", None) or getattr(dag_run, "run_id", None),
        "try_number": getattr(ti, "try_number", None),
        "max_tries": getattr(ti, "max_tries", None),
        "logical_date": _iso(context.get("logical_date")),
        "data_interval_start": _iso(context.get("data_interval_start")),
        "data_interval_end": _iso(context.get("data_interval_end")),
        "error_class": type(exception).__name__ if exception is not None else None,
        "error": str(exception)[:2000] if exception is not None else None,
        "log_url": _safe_log_url(ti),
    }


def on_failure_alert(context: dict[str, Any]) -> None:
    """Task failure callback: log the alert as one JSON line, POST it to ALERT_WEBHOOK_URL."""
    alert = build_alert(context)
    log.error("ALERT %s", json.dumps(alert, sort_keys=True))
    url = os.environ.get("ALERT_WEBHOOK_URL", "").strip()
    if url:
        post_webhook(url, alert)


def post_webhook(url: str, alert: dict[str, Any]) -> bool:
    """POST the alert as JSON; True when the receiver answered 2xx. Never raises."""
    request = urllib.request.Request(
        url,
        data=json.dumps(alert).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "webshop-airflow-alert"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
            ok = 200 <= response.status < 300
            log.info("Alert webhook answered %s", response.status)
            return ok
    except Exception as error:  # noqa: BLE001 - a broken webhook must not mask the task failure
        log.warning("Alert webhook POST to %s failed: %s", url, error)
        return False


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def _safe_log_url(ti: Any) -> str | None:
    try:
        return str(ti.log_url) if ti is not None else None
    except Exception:  # noqa: BLE001 - the URL is a convenience; its absence is no reason to fail
        return None
