"""Platform policies over the kustomize-built manifests (every kind the repository ships), and that each
policy catches a broken template with a message naming the resource and template."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from genaiops.kinds import BY_NAME
from tests.conftest import PRESENT_KINDS
from tests.platform import platform_policy as policy
from tests.platform.conftest import IMAGE, NAMESPACE, TAG

pytestmark = pytest.mark.tools

Docs = list[dict[str, Any]]
# the kinds this repository ships (a rendered project keeps only the selected ones)
KINDS = [BY_NAME[name] for name in PRESENT_KINDS]
FIRST, LAST = KINDS[0], KINDS[-1]


def find(docs: Docs, kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def template(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in doc["spec"]["templates"] if t["name"] == name)


def test_build_has_the_whole_library(built_docs: Docs) -> None:
    names = {(d["kind"], d["metadata"]["name"]) for d in built_docs}
    expected_templates = {
        "genaiops-base-v1",
        "genaiops-route-v1",
        "genaiops-notify-v1",
        "genaiops-sign-v1",
        "genaiops-deployed-check-v1",
        "genaiops-pr-ci-v1",
    }
    assert ("Sensor", "pull-request-ci") in names
    for kind in KINDS:
        expected_templates |= {f"{kind.pipeline}-v1", f"{kind.name}-cd-v1"}
        assert ("Sensor", f"{kind.name}-ci") in names
    assert {n for k, n in names if k == "WorkflowTemplate"} == expected_templates
    # the seed's "typically six to twelve", plus the scheduled checks' template (the CronWorkflows stay
    # one-liners) and the pull-request pipeline (every kind at once: one comment per pull request)
    assert 6 <= len(expected_templates) <= 14
    assert {n for k, n in names if k == "CronWorkflow"} == {"genaiops-drift-v1", "genaiops-rag-freshness-v1"}
    assert ("EventBus", "default") in names and ("EventSource", "github") in names
    assert {"genaiops-workflow", "genaiops-sensor", "genaiops-eventsource"} <= {
        n for k, n in names if k == "ServiceAccount"
    }


def test_every_namespaced_resource_lands_in_the_overlay_namespace(built_docs: Docs) -> None:
    assert {d["metadata"].get("namespace") for d in built_docs} == {NAMESPACE}
    for binding in (d for d in built_docs if d["kind"] == "RoleBinding"):
        assert {s["namespace"] for s in binding["subjects"]} == {NAMESPACE}


def test_pipeline_image_is_mapped_by_the_overlay(built_docs: Docs) -> None:
    images = [
        at.template["container"]["image"] for at in policy.templates(built_docs) if "container" in at.template
    ]
    ours = [i for i in images if "cosign" not in i]
    assert ours and set(ours) == {f"{IMAGE}:{TAG}"}, "every genaiops step must use the overlay's image"
    assert all(i.count(":") == 1 and not i.endswith(":latest") for i in images), "pin every image"


def test_every_pod_is_restricted(built_docs: Docs) -> None:
    assert policy.check_pod_security(built_docs) == []


def test_every_container_names_its_command_for_emissary(built_docs: Docs) -> None:
    assert policy.check_emissary(built_docs) == []


def test_container_without_command_is_reported(built_docs: Docs) -> None:
    route = find(built_docs, "WorkflowTemplate", "genaiops-route-v1")
    del template(route, "route")["container"]["command"]
    assert policy.check_emissary(built_docs) == [
        "WorkflowTemplate/genaiops-route-v1 template 'route': "
        "container.command must be set (emissary executor)"
    ]


def test_every_template_is_described_and_versioned(built_docs: Docs) -> None:
    assert policy.check_described_and_versioned(built_docs) == []


def test_retries_only_on_exit_code_3(built_docs: Docs) -> None:
    assert policy.check_retries(built_docs) == []
    retried = [at for at in policy.templates(built_docs) if "retryStrategy" in at.template]
    assert {at.template["name"] for at in retried} >= {
        "lint",
        "validate",
        "eval",
        "promote",
        "route",
        "checkout",
    }


def test_template_references_resolve(built_docs: Docs) -> None:
    assert policy.check_references(built_docs) == []


def test_all_policies_at_once(built_docs: Docs) -> None:
    assert policy.check_all(built_docs) == []


def test_sensor_parameters_reach_the_workflow_template(built_docs: Docs) -> None:
    assert policy.check_sensor_parameters(built_docs) == []


def test_every_kind_is_routed_by_exactly_one_sensor_to_its_versioned_ci(built_docs: Docs) -> None:
    sensors = [d for d in built_docs if d["kind"] == "Sensor"]
    for kind in KINDS:
        routing = [
            s
            for s in sensors
            if any(t.workflow_template == f"{kind.pipeline}-v1" for t in policy.sensor_triggers(s))
        ]
        assert [s["metadata"]["name"] for s in routing] == [f"{kind.name}-ci"]
        folders = {
            v
            for dep in routing[0]["spec"]["dependencies"]
            for f in (dep.get("filters") or {}).get("data") or []
            for v in f["value"]
            if "artifacts/" in v
        }
        assert folders == {f'"artifacts/{kind.folder}/'}


def test_synchronization_promotions_and_evals(built_docs: Docs) -> None:
    base = find(built_docs, "WorkflowTemplate", "genaiops-base-v1")
    assert template(base, "promote")["synchronization"]["mutexes"] == [
        {"name": "genaiops-promote-{{inputs.parameters.env}}"}
    ]
    semaphore = template(base, "eval")["synchronization"]["semaphores"][0]["configMapKeyRef"]
    config = find(built_docs, "ConfigMap", semaphore["name"])
    assert int(config["data"][semaphore["key"]]) >= 1


def test_workflow_hygiene_on_every_entry_template(built_docs: Docs) -> None:
    entries = policy.entry_workflows(built_docs)
    assert len(entries) == 2 * len(KINDS) + 2  # CI and CD per kind, pull-request CI, the scheduled checks
    for doc in entries:
        spec = policy.workflow_spec(doc)
        where = policy.ident(doc)
        assert spec.get("activeDeadlineSeconds", 0) > 0, where
        assert spec.get("ttlStrategy"), where
        assert spec.get("podGC", {}).get("strategy"), where
        assert spec.get("artifactGC", {}).get("strategy") == "OnWorkflowDeletion", where
        assert spec.get("artifactGC", {}).get("forceFinalizerRemoval") is True, where
        assert spec.get("serviceAccountName") == "genaiops-workflow", where
        assert spec.get("onExit"), where
    names = {d["metadata"]["name"] for d in entries}
    for cron in (d for d in built_docs if d["kind"] == "CronWorkflow"):
        assert cron["spec"]["concurrencyPolicy"] == "Replace"
        assert cron["spec"]["startingDeadlineSeconds"] > 0
        assert cron["spec"]["workflowSpec"]["workflowTemplateRef"]["name"] in names, "a cron runs a pipeline"


TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


def test_no_step_container_holds_a_kubernetes_token(built_docs: Docs) -> None:
    """The code under test runs in the main containers: genaiops-workflow does not automount its token,
    every pod of every pipeline gets it only in Argo's init and wait containers (a projected volume), and
    the one template that replaces that is the hand-off, a resource template (its only container is
    Argo's executor) running as genaiops-release, which automounts its own."""
    accounts = {d["metadata"]["name"]: d for d in built_docs if d["kind"] == "ServiceAccount"}
    assert accounts["genaiops-workflow"]["automountServiceAccountToken"] is False
    assert accounts["genaiops-release"]["automountServiceAccountToken"] is True
    for entry in policy.entry_workflows(built_docs):
        defaults = policy.workflow_spec(entry)["templateDefaults"]
        assert "automountServiceAccountToken" not in policy.workflow_spec(entry), policy.ident(entry)
        patch = yaml.safe_load(defaults["podSpecPatch"])
        [volume] = patch["volumes"]
        sources = [next(iter(source)) for source in volume["projected"]["sources"]]
        assert sources == ["serviceAccountToken", "configMap", "downwardAPI"]
        mounted = {
            c["name"]: [m["mountPath"] for m in c["volumeMounts"] if m["name"] == volume["name"]]
            for c in patch["initContainers"] + patch["containers"]
        }
        assert mounted == {"init": [TOKEN_PATH], "wait": [TOKEN_PATH]}, policy.ident(entry)
        for at in policy.reachable(entry, built_docs):
            runs_as = at.template.get("serviceAccountName")
            if "podSpecPatch" in at.template or runs_as:  # replaces the default (or its account)
                assert at.type == "resource" and runs_as == "genaiops-release", at.where


def _cosign_keys(template: dict[str, Any]) -> set[str]:
    """The keys of the Secret genaiops-cosign a template mounts or reads into its environment."""
    keys = {
        item["key"]
        for volume in template.get("volumes", [])
        if volume.get("secret", {}).get("secretName") == "genaiops-cosign"
        for item in volume["secret"].get("items") or [{"key": "*"}]
    }
    for var in (template.get("container") or {}).get("env", []):
        ref = var.get("valueFrom", {}).get("secretKeyRef", {})
        if ref.get("name") == "genaiops-cosign":
            keys.add(ref["key"])
    return keys


def test_only_signing_holds_the_signing_key_and_pull_requests_hold_no_key(built_docs: Docs) -> None:
    """The private key (and its password) reach exactly one template, sign-blob; promotion and verify
    get the public key only; nothing a pull request runs mounts any of it."""
    holders = {
        (at.doc["metadata"]["name"], at.template["name"]): _cosign_keys(at.template)
        for at in policy.templates(built_docs)
        if _cosign_keys(at.template)
    }
    assert holders == {
        ("genaiops-sign-v1", "sign-blob"): {"cosign.key", "cosign.password"},
        ("genaiops-sign-v1", "verify"): {"cosign.pub"},
        ("genaiops-base-v1", "promote"): {"cosign.pub"},
    }
    pull_request = find(built_docs, "WorkflowTemplate", "genaiops-pr-ci-v1")
    reached = policy.reachable(pull_request, built_docs)
    assert len(reached) > 5
    for at in reached:
        assert not _cosign_keys(at.template), at.where
        assert at.template["name"] not in {"sign", "sign-blob", "promote", "retire"}, at.where


def test_promotion_verifies_the_signed_evidence_of_all_three_reports(built_docs: Docs) -> None:
    base = find(built_docs, "WorkflowTemplate", "genaiops-base-v1")
    args = template(base, "promote")["container"]["args"]
    for flag in ("--evidence", "--signature", "--public-key"):
        assert flag in args
    sign = find(built_docs, "WorkflowTemplate", "genaiops-sign-v1")
    assert [a["name"] for a in template(sign, "sign")["inputs"]["artifacts"]] == [
        "lint-report",
        "validate-report",
        "scorecard",
    ]
    for kind in KINDS:
        ci = find(built_docs, "WorkflowTemplate", f"{kind.pipeline}-v1")
        tasks = {t["name"]: t for t in template(ci, "artifact")["dag"]["tasks"]}
        signed = {a["name"]: a["from"] for a in tasks["sign"]["arguments"]["artifacts"]}
        assert signed["lint-report"] == "{{tasks.lint.outputs.artifacts.report}}"
        assert signed["validate-report"] == "{{tasks.validate.outputs.artifacts.report}}"


def test_reports_and_scorecards_are_kept_with_the_workflow(built_docs: Docs) -> None:
    base = find(built_docs, "WorkflowTemplate", "genaiops-base-v1")
    gc = {
        t["name"]: {
            a["name"]: a.get("artifactGC", {}).get("strategy")
            for a in t.get("outputs", {}).get("artifacts", [])
        }
        for t in base["spec"]["templates"]
    }
    assert gc["lint"] == {"report": "OnWorkflowDeletion"}, "the lint report is evidence too (audit)"
    assert gc["eval"] == {
        "scorecard": "OnWorkflowDeletion",
        "scorecards": "OnWorkflowDeletion",
        "scorecard-markdown": "OnWorkflowDeletion",
    }
    repo = find(built_docs, "ConfigMap", "artifact-repositories")
    config = yaml.safe_load(repo["data"]["genaiops-s3"])["s3"]
    assert config["keyFormat"] == "{{workflow.name}}/{{pod.name}}"
    # the built-in store of the same build, not an address that exists nowhere
    service = find(built_docs, "Service", "genaiops-artifacts")
    assert config["endpoint"] == f"genaiops-artifacts:{service['spec']['ports'][0]['port']}"


def test_approval_suspend_only_where_required(built_docs: Docs) -> None:
    for kind in KINDS:
        cd = find(built_docs, "WorkflowTemplate", f"{kind.name}-cd-v1")
        tasks = {t["name"]: t for t in template(cd, "release")["dag"]["tasks"]}
        assert "suspend" in template(cd, tasks["approval"]["template"])
        assert tasks["approval"]["when"] == "'{{inputs.parameters.require-approval}}' == 'true'"
        assert "approval.Skipped" in tasks["promote"]["depends"]
        ci = find(built_docs, "WorkflowTemplate", f"{kind.pipeline}-v1")
        ci_tasks = {t["name"]: t for t in template(ci, "artifact")["dag"]["tasks"]}
        assert ci_tasks["eval"]["when"] == "{{inputs.parameters.full}} == true", "docs-only skips eval"
        assert ci_tasks["release"]["templateRef"] == {"name": f"{kind.name}-cd-v1", "template": "release"}


def test_ci_releases_only_in_the_first_environment_of_the_chain(built_docs: Docs) -> None:
    """A push releases in the first environment's instance only (release-on-push, written by genaiops
    init); later environments get a version through CD once the one before deploys it."""
    settings = find(built_docs, "ConfigMap", "genaiops-settings")
    assert settings["data"]["release-on-push"] == "true"  # the base instance serves dev, the first
    first_only = "'{{workflow.parameters.release-on-push}}' == 'true'"
    for kind in KINDS:
        ci = find(built_docs, "WorkflowTemplate", f"{kind.pipeline}-v1")
        [param] = [p for p in ci["spec"]["arguments"]["parameters"] if p["name"] == "release-on-push"]
        source = param["valueFrom"]["configMapKeyRef"]
        assert source == {"name": "genaiops-settings", "key": "release-on-push"}
        ci_tasks = {t["name"]: t for t in template(ci, "artifact")["dag"]["tasks"]}
        for name in ("release", "hand-off"):
            assert first_only in ci_tasks[name]["when"], (kind.name, name)
        retire = next(t for t in template(ci, "main")["dag"]["tasks"] if t["name"] == "retire")
        assert "release-on-push" not in retire["when"], "every environment retires a deleted artifact"


# --- a broken template fails with a clear message ---------------------------------------------------


def test_missing_security_context_is_reported(built_docs: Docs) -> None:
    ci = find(built_docs, "WorkflowTemplate", f"{FIRST.pipeline}-v1")
    del ci["spec"]["templateDefaults"]["container"]["securityContext"]
    problems = policy.check_pod_security(built_docs)
    assert problems, "every container of that pipeline lost its securityContext"
    assert all(
        f"(run by WorkflowTemplate/{FIRST.pipeline}-v1): container has no securityContext" in p
        for p in problems
    ), problems
    assert any("WorkflowTemplate/genaiops-base-v1 template 'lint'" in p for p in problems)


def test_writable_root_filesystem_is_reported(built_docs: Docs) -> None:
    sign = find(built_docs, "WorkflowTemplate", "genaiops-sign-v1")
    template(sign, "verify")["container"]["securityContext"] = {"readOnlyRootFilesystem": False}
    problems = policy.check_pod_security(built_docs)
    # every CI (through its release) and every CD runs verify
    assert len(problems) == 2 * len(KINDS), problems
    assert all(
        p.startswith("WorkflowTemplate/genaiops-sign-v1 template 'verify' (run by ")
        and p.endswith("securityContext.readOnlyRootFilesystem must be true")
        for p in problems
    ), problems


def test_retry_on_any_failure_is_reported(built_docs: Docs) -> None:
    base = find(built_docs, "WorkflowTemplate", "genaiops-base-v1")
    template(base, "validate")["retryStrategy"]["expression"] = "asInt(lastRetry.exitCode) != 0"
    template(base, "eval")["retryStrategy"]["limit"] = "9"
    problems = policy.check_retries(built_docs)
    assert len(problems) == 2
    assert "template 'validate': retryStrategy.expression must be" in problems[0]
    assert "template 'eval': retryStrategy.limit 9 allows more than 5 attempts" in problems[1]


def test_dangling_template_ref_is_reported(built_docs: Docs) -> None:
    ci = find(built_docs, "WorkflowTemplate", f"{LAST.pipeline}-v1")
    template(ci, "artifact")["dag"]["tasks"][0]["templateRef"]["name"] = "genaiops-base-v0"
    assert policy.check_references(built_docs) == [
        f"WorkflowTemplate/{LAST.pipeline}-v1 template 'artifact' task 'lint': "
        "templateRef to unknown WorkflowTemplate 'genaiops-base-v0'"
    ]


def test_missing_argument_is_reported(built_docs: Docs) -> None:
    cd = find(built_docs, "WorkflowTemplate", f"{FIRST.name}-cd-v1")
    promote = next(t for t in template(cd, "release")["dag"]["tasks"] if t["name"] == "promote")
    promote["arguments"]["parameters"] = [p for p in promote["arguments"]["parameters"] if p["name"] != "env"]
    assert policy.check_references(built_docs) == [
        f"WorkflowTemplate/{FIRST.name}-cd-v1 template 'release' task 'promote': "
        "missing parameters ['env'] for 'promote'"
    ]


def test_unversioned_trigger_target_is_reported(built_docs: Docs) -> None:
    ci = find(built_docs, "WorkflowTemplate", f"{LAST.pipeline}-v1")
    del ci["metadata"]["annotations"][policy.DESCRIPTION]
    ci["metadata"]["labels"][policy.VERSION_KEY] = "v2"
    problems = policy.check_described_and_versioned(built_docs)
    assert problems[0] == (
        f"WorkflowTemplate/{LAST.pipeline}-v1: metadata.annotations['{policy.DESCRIPTION}'] is missing"
    )
    assert "label and annotation 'genaiops.dev/template-version' must both be set and equal" in problems[1]


def test_sensor_parameter_past_the_end_is_reported(built_docs: Docs) -> None:
    sensor = find(built_docs, "Sensor", f"{FIRST.name}-ci")
    sensor["spec"]["triggers"][0]["template"]["k8s"]["parameters"][1]["dest"] = (
        "spec.arguments.parameters.9.value"
    )
    problems = policy.check_sensor_parameters(built_docs)
    assert problems[0] == (
        f"Sensor/{FIRST.name}-ci trigger 'push': dest 'spec.arguments.parameters.9.value' "
        "points past the 5 workflow parameters"
    )
    assert "needs parameters ['commit-sha'] that the trigger does not supply" in problems[1]


def test_every_configmap_parameter_exists_in_the_build(built_docs: Docs) -> None:
    """Workflow parameters read from ConfigMaps fail the workflow at start when the key is missing."""
    config = {
        (d["metadata"]["name"], k) for d in built_docs if d["kind"] == "ConfigMap" for k in d.get("data", {})
    }
    refs = []
    for doc in built_docs:
        if doc["kind"] in ("WorkflowTemplate", "CronWorkflow"):
            for param in (policy.workflow_spec(doc).get("arguments") or {}).get("parameters") or []:
                ref = (param.get("valueFrom") or {}).get("configMapKeyRef")
                if ref:
                    refs.append((policy.ident(doc), ref["name"], ref["key"]))
    assert len(refs) >= 20
    assert [r for r in refs if (r[1], r[2]) not in config] == []
