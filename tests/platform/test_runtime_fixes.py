"""Policies for what stopped the pipelines on a real cluster (issue: run the pipelines on Kubernetes), so
none of it can come back unnoticed. Each was first seen failing in the e2e suite (tests/e2e) or in Argo's
source, then fixed; these tests pin the fix on the built manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.platform import platform_policy as policy
from tests.platform.conftest import PLATFORM

pytestmark = pytest.mark.tools

Docs = list[dict[str, Any]]
PARAMETER_LABEL = "workflows.argoproj.io/configmap-type"


def find(docs: Docs, kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def parameter_configmaps(docs: Docs) -> set[str]:
    """ConfigMaps that workflow arguments read with valueFrom.configMapKeyRef."""
    names = set()
    for entry in policy.entry_workflows(docs):
        for param in (policy.workflow_spec(entry).get("arguments") or {}).get("parameters") or []:
            ref = (param.get("valueFrom") or {}).get("configMapKeyRef")
            if ref:
                names.add(ref["name"])
    return names


def unlabelled_parameter_configmaps(docs: Docs) -> list[str]:
    """Argo >= 3.4 only sees parameter ConfigMaps labelled configmap-type=Parameter; any other fails the
    workflow at start ("failed to set global parameters")."""
    problems = []
    for name in sorted(parameter_configmaps(docs)):
        matches = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name]
        if not matches:
            problems.append(f"ConfigMap/{name}: read by workflow arguments but not in the build")
        elif (matches[0]["metadata"].get("labels") or {}).get(PARAMETER_LABEL) != "Parameter":
            problems.append(f"ConfigMap/{name}: needs label {PARAMETER_LABEL}: Parameter")
    return problems


def test_parameter_configmaps_carry_the_label(built_docs: Docs) -> None:
    assert parameter_configmaps(built_docs) == {"genaiops-settings"}
    assert unlabelled_parameter_configmaps(built_docs) == []


def test_a_missing_label_is_reported(built_docs: Docs) -> None:
    del find(built_docs, "ConfigMap", "genaiops-settings")["metadata"]["labels"][PARAMETER_LABEL]
    assert unlabelled_parameter_configmaps(built_docs) == [
        f"ConfigMap/genaiops-settings: needs label {PARAMETER_LABEL}: Parameter"
    ]


def test_argo_init_and_wait_containers_are_restricted() -> None:
    """The controller gives Argo's own init/wait containers the executor securityContext; without one a
    namespace that enforces restricted refuses every step pod."""
    path = PLATFORM / "cluster" / "argo-workflows" / "workflow-controller-configmap.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert config["metadata"]["name"] == "workflow-controller-configmap"
    executor = yaml.safe_load(config["data"]["executor"])
    pod = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert policy._restricted_container(executor.get("securityContext"), pod, "executor") == []
    # init and wait run as the pod's user, so the files init writes belong to the step
    assert "runAsUser" not in executor["securityContext"]


def test_no_step_runs_in_the_argo_agent(built_docs: Docs) -> None:
    """HTTP (and plugin) templates run in the agent pod, which mounts a long-lived token Secret Kubernetes
    no longer creates: the pod never starts and the workflow hangs."""
    agent = [at.where for at in policy.templates(built_docs) if at.type in ("http", "plugin")]
    assert agent == []


def test_cosign_writes_its_signature_where_a_directory_exists(built_docs: Docs) -> None:
    sign = find(built_docs, "WorkflowTemplate", "genaiops-sign-v1")
    template = next(t for t in sign["spec"]["templates"] if t["name"] == "sign-blob")
    [output] = [
        a.split("=", 1)[1] for a in template["container"]["args"] if a.startswith("--output-signature=")
    ]
    # /tmp is the emptyDir every pipeline mounts (templateDefaults); cosign creates no directories
    assert str(Path(output).parent) == "/tmp"
    assert [a["path"] for a in template["outputs"]["artifacts"]] == [output]


def test_steps_that_call_endpoints_get_the_pipeline_env(built_docs: Docs) -> None:
    """validate and eval mount the Secret their caller names (genaiops-pipeline-env unless it is a fork's
    pull request); promote, rollback and watch only ever run for the repository itself."""
    base = find(built_docs, "WorkflowTemplate", "genaiops-base-v1")
    for template in base["spec"]["templates"]:
        if template["name"] in ("validate", "eval", "promote", "rollback", "watch"):
            refs = [e["secretRef"] for e in template["container"].get("envFrom") or [] if "secretRef" in e]
            if template["name"] in ("validate", "eval"):
                [default] = [
                    p["value"] for p in template["inputs"]["parameters"] if p["name"] == "pipeline-env"
                ]
                assert default == "genaiops-pipeline-env", template["name"]
                assert refs == [{"name": "{{inputs.parameters.pipeline-env}}", "optional": True}]
            else:
                assert {"name": "genaiops-pipeline-env", "optional": True} in refs, template["name"]


def test_ci_never_waits_for_a_human(built_docs: Docs) -> None:
    """An approval inside CI would be cut by CI's deadline: CI calls CD's release only with
    require-approval "false" (its approval task is then skipped) and hands gated releases to a CD workflow."""
    for entry in policy.entry_workflows(built_docs):
        if entry["metadata"]["labels"].get("genaiops.dev/pipeline") != "ci":
            continue
        reached = policy.reachable(entry, built_docs)
        suspends = {at.template["name"] for at in reached if at.type == "suspend"}
        assert suspends <= {"approval"}, suspends
        calls = [call for at in reached for _, call in policy._calls(at)]
        releases = [c for c in calls if (c.get("templateRef") or {}).get("template") == "release"]
        assert releases, policy.ident(entry)
        for call in releases:
            params = {p["name"]: p["value"] for p in call["arguments"]["parameters"]}
            assert params["require-approval"] == "false", policy.ident(entry)
        approvals = [c for c in calls if c.get("template") == "approval"]
        assert approvals and all("require-approval" in c["when"] for c in approvals)
        assert any((c.get("templateRef") or {}).get("template") == "hand-off" for c in calls)


def test_only_the_hand_off_may_create_workflows(built_docs: Docs) -> None:
    roles = {d["metadata"]["name"]: d for d in built_docs if d["kind"] == "Role"}
    creators = {
        name
        for name, role in roles.items()
        for rule in role["rules"]
        if "workflows" in rule["resources"] and "create" in rule["verbs"]
    }
    assert creators <= {"genaiops-release", "genaiops-sensor"}
    users = {
        at.template["name"]
        for at in policy.templates(built_docs)
        if at.template.get("serviceAccountName") == "genaiops-release"
    }
    assert users == {"hand-off"}


def test_scheduled_checks_look_at_what_environments_deploy(built_docs: Docs) -> None:
    check = find(built_docs, "WorkflowTemplate", "genaiops-deployed-check-v1")
    main = next(t for t in check["spec"]["templates"] if t["name"] == "main")
    for task in main["dag"]["tasks"]:
        if task["name"] in ("eval", "validate"):
            params = {p["name"]: p["value"] for p in task["arguments"]["parameters"]}
            assert params["deployed"] == "true", task["name"]
    crons = [d for d in built_docs if d["kind"] == "CronWorkflow"]
    assert {c["spec"]["workflowSpec"]["workflowTemplateRef"]["name"] for c in crons} == {
        "genaiops-deployed-check-v1"
    }


def test_the_watch_reads_a_status_not_a_json_path(built_docs: Docs) -> None:
    """jsonpath() panics on a missing key (the promote report's default `{}`), which left an unparsable
    `when` and errored the release after its commit."""
    for entry in policy.entry_workflows(built_docs):
        for at in policy.templates([entry]):
            for task in (at.template.get("dag") or {}).get("tasks") or []:
                assert "jsonpath(" not in str(task.get("when", "")), at.where


def test_resource_steps_have_a_writable_tmp(built_docs: Docs) -> None:
    """Argo's init container stages a resource step's manifest in /tmp/manifest.yaml on a root filesystem
    the executor securityContext makes read-only ("open /tmp/manifest.yaml: read-only file system" on the
    cluster); unlike main, it gets no /tmp of Argo's: each resource template mounts an emptyDir there."""
    resources = [at for at in policy.templates(built_docs) if at.type == "resource"]
    assert {at.template["name"] for at in resources} == {"hand-off"}
    for at in resources:
        patch = yaml.safe_load(at.template.get("podSpecPatch") or "{}")
        assert "containers" not in patch, "main has Argo's /tmp already (a second mount is refused)"
        init = next(c for c in patch.get("initContainers", []) if c["name"] == "init")
        mount = next(m for m in init["volumeMounts"] if m["mountPath"] == "/tmp")
        volume = next(v for v in patch.get("volumes", []) if v["name"] == mount["name"])
        assert "emptyDir" in volume, at.where


def test_the_hand_off_needs_nothing_but_create(built_docs: Docs) -> None:
    """A resource step that reads its object back (outputs, success/failure conditions) needs `get` too;
    genaiops-release may only create workflows ("cannot get resource workflows" on the cluster)."""
    [hand_off] = [at.template for at in policy.templates(built_docs) if at.template["name"] == "hand-off"]
    assert hand_off["resource"]["action"] == "create"
    assert not hand_off.get("outputs")
    assert not {"successCondition", "failureCondition"} & set(hand_off["resource"])
    role = find(built_docs, "Role", "genaiops-release")
    verbs = {v for rule in role["rules"] if "workflows" in rule["resources"] for v in rule["verbs"]}
    assert verbs == {"create"}


def test_the_eventbus_runs_the_pinned_jetstream(built_docs: Docs) -> None:
    """The EventBus names a JetStream version the Argo Events controller lists; the e2e cluster builds
    exactly that nats-server (genaiops.pins), so a bump of one without the other is caught here."""
    from genaiops import pins

    bus = find(built_docs, "EventBus", "default")
    assert bus["spec"]["jetstream"]["version"] == pins.NATS_SERVER.version.lstrip("v")


def test_artifacts_are_collected_by_one_strategy(built_docs: Docs) -> None:
    """A workflow whose artifacts mix OnWorkflowCompletion and OnWorkflowDeletion (with
    forceFinalizerRemoval) can keep its artifact-GC finalizer after deletion (argo-workflows#14372): seen
    once on the cluster as a pull-request CI that never went away. Every artifact follows the workflow's
    one strategy, OnWorkflowDeletion (reports and scorecards are the audit trail while it exists)."""
    strategies = {}
    for entry in policy.entry_workflows(built_docs):
        collection = policy.workflow_spec(entry).get("artifactGC") or {}
        strategies[policy.ident(entry)] = collection.get("strategy")
    for at in policy.templates(built_docs):
        for artifact in (at.template.get("outputs") or {}).get("artifacts") or []:
            if "artifactGC" in artifact:
                strategies[f"{at.where} artifact {artifact['name']!r}"] = artifact["artifactGC"]["strategy"]
    assert set(strategies.values()) == {"OnWorkflowDeletion"}, strategies


def _locking_templates(docs: Docs) -> set[tuple[str, str]]:
    """(WorkflowTemplate, template) pairs whose template takes a mutex or semaphore."""
    return {
        (d["metadata"]["name"], t["name"])
        for d in docs
        if d["kind"] == "WorkflowTemplate"
        for t in d["spec"].get("templates") or []
        if t.get("synchronization")
    }


def fanned_out_onto_locks(docs: Docs) -> list[str]:
    """DAG tasks with withParam/withItems whose own template holds a lock. Argo v3.6.18 releases that lock
    when the task group completes without taking it (an empty list) and panics on the workflow's nil mutex
    status: every such workflow ends Error (seen in the e2e suite with the CI retire step)."""
    locking = _locking_templates(docs)
    found = []
    for d in docs:
        if d["kind"] != "WorkflowTemplate":
            continue
        for t in d["spec"].get("templates") or []:
            for task in (t.get("dag") or {}).get("tasks") or []:
                if not (task.get("withParam") or task.get("withItems")):
                    continue
                ref = task.get("templateRef") or {}
                target = (ref["name"], ref["template"]) if ref else (d["metadata"]["name"], task["template"])
                if target in locking:
                    found.append(f"{d['metadata']['name']}/{t['name']}/{task['name']} -> {target[1]}")
    return found


def test_no_fan_out_points_straight_at_a_locking_template(built_docs: Docs) -> None:
    assert fanned_out_onto_locks(built_docs) == []


def test_a_fan_out_onto_a_locking_template_is_reported(built_docs: Docs) -> None:
    """The check catches the first version of the CI retire task (straight onto base retire)."""
    base, name = next(pair for pair in _locking_templates(built_docs) if pair[1] == "retire")
    tasks = [
        task
        for d in built_docs
        if d["kind"] == "WorkflowTemplate"
        for t in d["spec"].get("templates") or []
        for task in (t.get("dag") or {}).get("tasks") or []
        if task["name"] == "retire" and task.get("withParam")
    ]
    assert tasks, "no CI retire task to point at the locking template"
    tasks[0].pop("template")
    tasks[0]["templateRef"] = {"name": base, "template": name}
    assert any(line.endswith("/retire -> retire") for line in fanned_out_onto_locks(built_docs))
