"""The Argo CD settings `genaiops init` writes (environments/bootstrap/argocd-config.yaml): notification
triggers and templates for deployed, sync-failed and health-degraded, the webhook subscription, and the
Pod health check, executed with a Lua 5.1 interpreter (the dialect Argo CD's gopher-lua speaks)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from lupa import lua51

from genaiops import scaffold
from tests.conftest import REPO_ROOT

CONFIG = "environments/bootstrap/argocd-config.yaml"


def _render(tmp_path: Path, **answers: Any) -> dict[str, dict[str, Any]]:
    path = tmp_path / ".copier-answers.yml"
    path.write_text(yaml.safe_dump({"_commit": "v0.1.0", **answers}), encoding="utf-8")
    code = scaffold.run(tmp_path, path, check=False, force=False, out=io.StringIO(), err=io.StringIO())
    assert code == 0
    kustomization = yaml.safe_load((tmp_path / "environments/bootstrap/kustomization.yaml").read_text())
    assert "argocd-config.yaml" in kustomization["resources"]
    docs = [d for d in yaml.safe_load_all((tmp_path / CONFIG).read_text()) if d]
    return {d["metadata"]["name"]: d for d in docs}


def test_triggers_send_templates_that_exist(tmp_path: Path) -> None:
    data = _render(tmp_path)["argocd-notifications-cm"]["data"]
    triggers = {
        k.removeprefix("trigger."): yaml.safe_load(v) for k, v in data.items() if k.startswith("trigger.")
    }
    assert set(triggers) == {"on-deployed", "on-sync-failed", "on-health-degraded"}
    for conditions in triggers.values():
        for condition in conditions:
            assert condition["when"]
            for template in condition["send"]:
                body = yaml.safe_load(data[f"template.{template}"])
                assert "{{.app.metadata.name}}" in body["message"]
                assert body["webhook"]["genaiops"]["method"] == "POST"
    assert "Degraded" in triggers["on-health-degraded"][0]["when"]
    assert "'Error', 'Failed'" in triggers["on-sync-failed"][0]["when"]
    assert "subscriptions" not in data and "service.webhook.genaiops" not in data  # no webhook configured


def test_a_webhook_subscribes_every_project_application(tmp_path: Path) -> None:
    data = _render(
        tmp_path, project_name="search-team", notification_webhook="https://hooks.example.com/genai"
    )["argocd-notifications-cm"]["data"]
    assert yaml.safe_load(data["service.webhook.genaiops"])["url"] == "https://hooks.example.com/genai"
    [subscription] = yaml.safe_load(data["subscriptions"])
    assert subscription["recipients"] == ["genaiops"]
    assert subscription["selector"] == "app.kubernetes.io/part-of=search-team"
    assert set(subscription["triggers"]) == {"on-deployed", "on-sync-failed", "on-health-degraded"}


def _table(lua: Any, value: Any) -> Any:
    if isinstance(value, dict):
        return lua.table_from({k: _table(lua, v) for k, v in value.items()})
    if isinstance(value, list):
        return lua.table_from([_table(lua, v) for v in value])
    return value


def _health(pod: dict[str, Any]) -> tuple[str, str]:
    script = yaml.safe_load((REPO_ROOT / CONFIG).read_text().split("\n---\n")[1])["data"][
        "resource.customizations.health.Pod"
    ]
    lua = lua51.LuaRuntime()
    check = lua.eval(f"function(obj)\n{script}\nend")
    result = check(_table(lua, pod))
    return result["status"], result["message"]


def _pod(
    ready: bool, serving: bool = True, waiting: str | None = None, phase: str = "Running"
) -> dict[str, Any]:
    state = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    return {
        "metadata": {"name": "p", "labels": {"genaiops.dev/serving": "gateway"} if serving else {}},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"name": "serve", "ready": ready, "state": state}],
        },
    }


@pytest.mark.parametrize(
    "pod, status, message",
    [
        (_pod(ready=True), "Healthy", "every artifact is loaded"),
        (_pod(ready=False), "Progressing", "an artifact is missing or invalid"),
        (_pod(ready=False, waiting="CrashLoopBackOff"), "Degraded", "serve: CrashLoopBackOff"),
        (_pod(ready=False, waiting="ImagePullBackOff"), "Degraded", "ImagePullBackOff"),
        (_pod(ready=True, serving=False), "Healthy", "Pod is ready"),
        (_pod(ready=False, serving=False), "Progressing", "Waiting for the pod to be ready"),
        (_pod(ready=False, phase="Failed"), "Degraded", "Pod failed"),
        ({"metadata": {"name": "p"}}, "Progressing", "scheduled"),
    ],
)
def test_pod_health_follows_the_health_endpoint(pod: dict[str, Any], status: str, message: str) -> None:
    got_status, got_message = _health(pod)
    assert got_status == status and message in got_message
