"""Policy checks over the rendered platform manifests (the output of `kustomize build`).

Each check takes the list of parsed documents and returns human-readable violations, each naming the
resource and the template or field at fault, so a failing test says exactly what to fix. The checks
encode the platform's rules (platform/README.md): every pod restricted, every template described and
versioned, retries only on exit code 3, every artifact kind routed by exactly one Sensor to its
versioned CI template, every template reference resolvable with the parameters it needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Doc = dict[str, Any]

DESCRIPTION = "workflows.argoproj.io/description"
VERSION_KEY = "genaiops.dev/template-version"
RETRY_EXPRESSION = "asInt(lastRetry.exitCode) == 3 || lastRetry.status == 'Error'"
"""Exit code 3 (genaiops' infrastructure error) or a pod error (a failed clone or artifact download)."""
NOTIFY_RETRY = "asInt(lastRetry.exitCode) == 3"
MAX_ATTEMPTS = 5
POD_TYPES = ("container", "script", "containerSet")
TEMPLATE_TYPES = (
    "container",
    "script",
    "containerSet",
    "dag",
    "steps",
    "suspend",
    "http",
    "resource",
    "data",
    "plugin",
)
ARGO_KINDS = ("WorkflowTemplate", "CronWorkflow", "ClusterWorkflowTemplate", "Workflow")


def ident(doc: Doc) -> str:
    """`Kind/name` of a resource, for messages."""
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


def by_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d.get("kind") == kind]


def workflow_spec(doc: Doc) -> Doc:
    """The workflow spec of an Argo resource (CronWorkflows nest it)."""
    spec = doc.get("spec") or {}
    return spec.get("workflowSpec") or {} if doc.get("kind") == "CronWorkflow" else spec


@dataclass(frozen=True)
class TemplateAt:
    """One template inside an Argo resource."""

    doc: Doc
    template: Doc

    @property
    def where(self) -> str:
        return f"{ident(self.doc)} template {self.template.get('name')!r}"

    @property
    def type(self) -> str | None:
        return next((t for t in TEMPLATE_TYPES if t in self.template), None)


def templates(docs: list[Doc]) -> Iterator[TemplateAt]:
    for doc in docs:
        if doc.get("kind") in ARGO_KINDS:
            for template in workflow_spec(doc).get("templates") or []:
                yield TemplateAt(doc, template)


# --- pod security ---------------------------------------------------------------------------------


def _restricted_container(sc: Doc | None, pod_sc: Doc, where: str) -> list[str]:
    """PSA `restricted` for one container given its pod's security context (plus read-only rootfs)."""
    if not sc:
        return [f"{where}: container has no securityContext (restricted pods need one on every container)"]
    problems = []
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{where}: securityContext.allowPrivilegeEscalation must be false")
    if sc.get("privileged"):
        problems.append(f"{where}: securityContext.privileged must not be true")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{where}: securityContext.readOnlyRootFilesystem must be true")
    if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
        problems.append(f"{where}: securityContext.capabilities.drop must contain ALL")
    if (sc.get("capabilities") or {}).get("add"):
        problems.append(f"{where}: securityContext.capabilities.add must be empty")
    if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
        problems.append(f"{where}: runAsNonRoot must be true (container or pod securityContext)")
    if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
        problems.append(f"{where}: runAsUser must not be 0")
    seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        problems.append(
            f"{where}: seccompProfile.type must be RuntimeDefault (container or pod securityContext)"
        )
    return problems


def _merge_by(key: str, defaults: list[Doc], own: list[Doc]) -> list[Doc]:
    """A strategic merge of two lists keyed by ``key`` (the template's entries win)."""
    merged = {item.get(key): item for item in defaults}
    merged.update({item.get(key): item for item in own})
    return list(merged.values())


def effective_container(container: Doc, defaults: Doc) -> Doc:
    """A container as Argo runs it: the workflow's templateDefaults.container merged in (strategic merge:
    securityContext field by field, env by name, volumeMounts by mountPath; the template wins)."""
    merged = {**defaults, **container}
    merged["securityContext"] = {
        **(defaults.get("securityContext") or {}),
        **(container.get("securityContext") or {}),
    }
    merged["env"] = _merge_by("name", defaults.get("env") or [], container.get("env") or [])
    merged["volumeMounts"] = _merge_by(
        "mountPath", defaults.get("volumeMounts") or [], container.get("volumeMounts") or []
    )
    return merged


def entry_workflows(docs: list[Doc]) -> list[Doc]:
    """What workflows are started from: WorkflowTemplates labelled genaiops.dev/pipeline, and
    CronWorkflows that carry their own templates."""
    entries = [
        d
        for d in by_kind(docs, "WorkflowTemplate")
        if "genaiops.dev/pipeline" in (d["metadata"].get("labels") or {})
    ]
    return entries + [d for d in by_kind(docs, "CronWorkflow") if workflow_spec(d).get("templates")]


def reachable(entry: Doc, docs: list[Doc]) -> list[TemplateAt]:
    """Every template a workflow started from ``entry`` can run: its own, and those it reaches through
    templateRef (transitively), which Argo runs under ``entry``'s pod settings and templateDefaults."""
    library = {d["metadata"]["name"]: d for d in by_kind(docs, "WorkflowTemplate")}
    seen: set[tuple[str, str]] = set()
    found: list[TemplateAt] = []
    queue = [(entry, t) for t in workflow_spec(entry).get("templates") or []]
    while queue:
        doc, template = queue.pop()
        key = (ident(doc), template.get("name", ""))
        if key in seen:
            continue
        seen.add(key)
        at = TemplateAt(doc, template)
        found.append(at)
        local = {t["name"]: t for t in workflow_spec(doc).get("templates") or []}
        for _, call in _calls(at):
            if "templateRef" in call:
                target_doc = library.get(call["templateRef"].get("name"))
                targets = workflow_spec(target_doc).get("templates") if target_doc else []
                queue += [
                    (target_doc, t) for t in targets or [] if t["name"] == call["templateRef"].get("template")
                ]
            elif call.get("template") in local:
                queue.append((doc, local[call["template"]]))
    return found


def check_pod_security(docs: list[Doc]) -> list[str]:
    """Every pod a workflow runs is PSA-restricted with a writable /tmp on an emptyDir, evaluated as Argo
    runs it: each pipeline's pod securityContext, volumes and templateDefaults applied to every container
    template it reaches, its own and the library's."""
    problems: list[str] = []
    for entry in entry_workflows(docs):
        spec = workflow_spec(entry)
        pod_sc = spec.get("securityContext") or {}
        if not pod_sc:
            problems.append(f"{ident(entry)}: spec.securityContext (pod level) is missing")
        defaults = (spec.get("templateDefaults") or {}).get("container") or {}
        workflow_volumes = {v.get("name"): v for v in spec.get("volumes") or []}
        for at in reachable(entry, docs):
            if at.type not in POD_TYPES:
                continue
            where = f"{at.where} (run by {ident(entry)})"
            if at.type == "containerSet":
                containers = (at.template["containerSet"] or {}).get("containers") or []
            else:
                containers = [at.template[at.type]]
            volumes = {**workflow_volumes, **{v.get("name"): v for v in (at.template.get("volumes") or [])}}
            template_sc = at.template.get("securityContext") or pod_sc
            for container in containers:
                effective = effective_container(container, defaults)
                problems += _restricted_container(effective.get("securityContext"), template_sc, where)
                mounts = {m.get("mountPath"): m.get("name") for m in effective.get("volumeMounts") or []}
                tmp = volumes.get(mounts.get("/tmp"))
                if tmp is None or "emptyDir" not in tmp:
                    problems.append(
                        f"{where}: /tmp must be an emptyDir volume (the root filesystem is read-only)"
                    )
            for volume in volumes.values():
                if "hostPath" in volume:
                    problems.append(f"{where}: hostPath volume {volume.get('name')!r} is not allowed")
    for doc in by_kind(docs, "Sensor") + by_kind(docs, "EventSource"):
        tpl = (doc.get("spec") or {}).get("template") or {}
        pod_sc = tpl.get("securityContext") or {}
        if pod_sc.get("runAsNonRoot") is not True:
            problems.append(f"{ident(doc)}: spec.template.securityContext.runAsNonRoot must be true")
        problems += _restricted_container(
            (tpl.get("container") or {}).get("securityContext"),
            pod_sc,
            f"{ident(doc)} spec.template.container",
        )
    for doc in by_kind(docs, "EventBus"):
        js = (doc.get("spec") or {}).get("jetstream") or {}
        pod_sc = js.get("securityContext") or {}
        if pod_sc.get("runAsNonRoot") is not True:
            problems.append(f"{ident(doc)}: spec.jetstream.securityContext.runAsNonRoot must be true")
        for key in ("containerTemplate", "reloaderContainerTemplate", "metricsContainerTemplate"):
            problems += _restricted_container(
                (js.get(key) or {}).get("securityContext"), pod_sc, f"{ident(doc)} spec.jetstream.{key}"
            )
    return problems


def check_emissary(docs: list[Doc]) -> list[str]:
    """The emissary executor runs a container's `command` directly; without one it must look the image's
    ENTRYPOINT up in a registry, which a restricted, offline or private setup may not allow."""
    problems: list[str] = []
    for at in templates(docs):
        if at.type == "container" and not at.template["container"].get("command"):
            problems.append(f"{at.where}: container.command must be set (emissary executor)")
        if at.type == "script" and not at.template["script"].get("command"):
            problems.append(f"{at.where}: script.command must be set (emissary executor)")
    return problems


# --- description and versioning -------------------------------------------------------------------


def check_described_and_versioned(docs: list[Doc]) -> list[str]:
    """Each Argo resource is described and versioned (label = annotation = name suffix); each template
    carries a description too."""
    problems: list[str] = []
    for doc in docs:
        if doc.get("kind") not in ("WorkflowTemplate", "CronWorkflow"):
            continue
        meta = doc.get("metadata") or {}
        name = meta.get("name", "")
        annotations = meta.get("annotations") or {}
        labels = meta.get("labels") or {}
        if not str(annotations.get(DESCRIPTION, "")).strip():
            problems.append(f"{ident(doc)}: metadata.annotations[{DESCRIPTION!r}] is missing")
        label, annotation = labels.get(VERSION_KEY), annotations.get(VERSION_KEY)
        if not label or label != annotation:
            problems.append(
                f"{ident(doc)}: label and annotation {VERSION_KEY!r} must both be set and equal "
                f"(label={label!r}, annotation={annotation!r})"
            )
        elif not re.fullmatch(r"v\d+", str(label)) or not name.endswith(f"-{label}"):
            problems.append(
                f"{ident(doc)}: the name must end with the version (-{label}) so triggers "
                "reference a versioned name"
            )
    for at in templates(docs):
        described = ((at.template.get("metadata") or {}).get("annotations") or {}).get(DESCRIPTION)
        if not str(described or "").strip():
            problems.append(f"{at.where}: metadata.annotations[{DESCRIPTION!r}] is missing")
    return problems


# --- retries ---------------------------------------------------------------------------------------


def check_retries(docs: list[Doc]) -> list[str]:
    """Retries only for exit code 3, exponential backoff (factor 2), at most five attempts; nothing but
    pod templates retries (a failed check, notification or approval is final)."""
    problems: list[str] = []
    for at in templates(docs):
        retry = at.template.get("retryStrategy")
        if retry is None:
            continue
        if at.type not in POD_TYPES:
            problems.append(f"{at.where}: only container templates may retry (this is a {at.type} template)")
            continue
        if str(retry.get("expression", "")).strip() not in (RETRY_EXPRESSION, NOTIFY_RETRY):
            problems.append(
                f"{at.where}: retryStrategy.expression must be {RETRY_EXPRESSION!r} "
                f"(got {retry.get('expression')!r}): only infrastructure errors are retried"
            )
        try:
            limit = int(str(retry.get("limit")))
        except ValueError:
            problems.append(f"{at.where}: retryStrategy.limit must be an integer")
        else:
            if not 0 < limit <= MAX_ATTEMPTS - 1:
                problems.append(
                    f"{at.where}: retryStrategy.limit {limit} allows more than {MAX_ATTEMPTS} attempts"
                )
        backoff = retry.get("backoff") or {}
        if str(backoff.get("factor")) != "2" or not backoff.get("duration"):
            problems.append(f"{at.where}: retryStrategy.backoff needs a duration and factor 2")
    return problems


# --- references ------------------------------------------------------------------------------------


def _required_inputs(template: Doc) -> set[str]:
    params = (template.get("inputs") or {}).get("parameters") or []
    return {p["name"] for p in params if "value" not in p and "default" not in p and "valueFrom" not in p}


def _declared_inputs(template: Doc) -> tuple[set[str], set[str]]:
    inputs = template.get("inputs") or {}
    params = {p["name"] for p in inputs.get("parameters") or []}
    artifacts = {a["name"] for a in inputs.get("artifacts") or [] if not _self_sourced(a)}
    return params, artifacts


def _self_sourced(artifact: Doc) -> bool:
    """An input artifact the template fetches itself (git, raw, http, ...), not passed by callers."""
    return any(
        k in artifact
        for k in ("git", "raw", "http", "s3", "gcs", "oss", "hdfs", "artifactory", "azure", "from")
    )


def _calls(at: TemplateAt) -> Iterator[tuple[str, Doc]]:
    """(where, step-or-task) for each call made by a dag/steps template."""
    if "dag" in at.template:
        for task in at.template["dag"].get("tasks") or []:
            yield f"{at.where} task {task.get('name')!r}", task
    for group in at.template.get("steps") or []:
        for step in group or []:
            yield f"{at.where} step {step.get('name')!r}", step


def check_references(docs: list[Doc]) -> list[str]:
    """templateRef / template / workflowTemplateRef targets exist, and every call passes exactly the
    inputs its target declares (all required parameters, no unknown names, every artifact)."""
    library = {
        d["metadata"]["name"]: {t["name"]: t for t in (d["spec"].get("templates") or [])}
        for d in by_kind(docs, "WorkflowTemplate")
    }
    problems: list[str] = []
    for at in templates(docs):
        local = {t["name"]: t for t in workflow_spec(at.doc).get("templates") or []}
        for where, call in _calls(at):
            if "templateRef" in call:
                ref = call["templateRef"]
                target = library.get(ref.get("name"), {}).get(ref.get("template"))
                if ref.get("name") not in library:
                    problems.append(f"{where}: templateRef to unknown WorkflowTemplate {ref.get('name')!r}")
                    continue
                if target is None:
                    problems.append(
                        f"{where}: WorkflowTemplate {ref.get('name')!r} has no template "
                        f"{ref.get('template')!r}"
                    )
                    continue
            else:
                target = local.get(call.get("template"))
                if target is None:
                    problems.append(f"{where}: unknown template {call.get('template')!r}")
                    continue
            args = call.get("arguments") or {}
            passed = {p["name"] for p in args.get("parameters") or []}
            passed_artifacts = {a["name"] for a in args.get("artifacts") or []}
            declared, declared_artifacts = _declared_inputs(target)
            optional = {
                a["name"] for a in (target.get("inputs") or {}).get("artifacts") or [] if a.get("optional")
            }
            if missing := _required_inputs(target) - passed:
                problems.append(f"{where}: missing parameters {sorted(missing)} for {target['name']!r}")
            if unknown := passed - declared:
                problems.append(f"{where}: unknown parameters {sorted(unknown)} for {target['name']!r}")
            if missing_art := declared_artifacts - optional - passed_artifacts:
                problems.append(f"{where}: missing artifacts {sorted(missing_art)} for {target['name']!r}")
            if unknown_art := passed_artifacts - declared_artifacts:
                problems.append(f"{where}: unknown artifacts {sorted(unknown_art)} for {target['name']!r}")
        on_exit = workflow_spec(at.doc).get("onExit")
        if on_exit and on_exit not in local:
            problems.append(f"{ident(at.doc)}: onExit names unknown template {on_exit!r}")
    for doc in by_kind(docs, "WorkflowTemplate") + by_kind(docs, "CronWorkflow"):
        entry = workflow_spec(doc).get("entrypoint")
        names = {t["name"] for t in workflow_spec(doc).get("templates") or []}
        if entry and entry not in names:
            problems.append(f"{ident(doc)}: entrypoint {entry!r} is not a template")
    for sensor in by_kind(docs, "Sensor"):
        for trigger in sensor_triggers(sensor):
            ref = trigger.workflow_template
            if ref is not None and ref not in library:
                problems.append(
                    f"{ident(sensor)} trigger {trigger.name!r}: workflowTemplateRef {ref!r} "
                    "is not a WorkflowTemplate in the build"
                )
    return problems


# --- sensors ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SensorTrigger:
    sensor: Doc
    name: str
    conditions: str
    workflow: Doc
    parameters: list[Doc]

    @property
    def workflow_template(self) -> str | None:
        return ((self.workflow.get("spec") or {}).get("workflowTemplateRef") or {}).get("name")


def sensor_triggers(sensor: Doc) -> list[SensorTrigger]:
    out = []
    for trigger in (sensor.get("spec") or {}).get("triggers") or []:
        tpl = trigger.get("template") or {}
        k8s = tpl.get("k8s") or tpl.get("argoWorkflow") or {}
        resource = ((k8s.get("source") or {}).get("resource")) or {}
        if resource.get("kind") == "Workflow":
            out.append(
                SensorTrigger(
                    sensor,
                    tpl.get("name", ""),
                    tpl.get("conditions", ""),
                    resource,
                    k8s.get("parameters") or [],
                )
            )
    return out


_DEST = re.compile(r"^spec\.arguments\.parameters\.(\d+)\.value$")


def check_sensor_parameters(docs: list[Doc]) -> list[str]:
    """Trigger parameters land on existing workflow parameters, and every parameter the referenced
    WorkflowTemplate requires (no default, no valueFrom) is supplied by the trigger."""
    library = {d["metadata"]["name"]: d for d in by_kind(docs, "WorkflowTemplate")}
    problems: list[str] = []
    for sensor in by_kind(docs, "Sensor"):
        deps = {d["name"] for d in (sensor.get("spec") or {}).get("dependencies") or []}
        for trigger in sensor_triggers(sensor):
            where = f"{ident(sensor)} trigger {trigger.name!r}"
            wf_params = ((trigger.workflow.get("spec") or {}).get("arguments") or {}).get("parameters") or []
            supplied = {p["name"] for p in wf_params if "value" in p}
            for param in trigger.parameters:
                src = param.get("src") or {}
                if src.get("dependencyName") not in deps:
                    problems.append(
                        f"{where}: parameter source names unknown dependency {src.get('dependencyName')!r}"
                    )
                match = _DEST.match(str(param.get("dest", "")))
                if not match:
                    continue
                index = int(match.group(1))
                if index >= len(wf_params):
                    problems.append(
                        f"{where}: dest {param['dest']!r} points past the {len(wf_params)} "
                        "workflow parameters"
                    )
                    continue
                supplied.add(wf_params[index]["name"])
            if trigger.conditions and not set(re.findall(r"[A-Za-z0-9_-]+", trigger.conditions)) <= deps:
                problems.append(f"{where}: conditions {trigger.conditions!r} name unknown dependencies")
            template = library.get(trigger.workflow_template or "")
            if template is None:
                continue
            declared = (template["spec"].get("arguments") or {}).get("parameters") or []
            names = {p["name"] for p in declared}
            required = {p["name"] for p in declared if "value" not in p and "valueFrom" not in p}
            if missing := required - supplied:
                problems.append(
                    f"{where}: {trigger.workflow_template} needs parameters {sorted(missing)} "
                    "that the trigger does not supply"
                )
            if unknown := {p["name"] for p in wf_params} - names:
                problems.append(
                    f"{where}: workflow parameters {sorted(unknown)} are not declared by "
                    f"{trigger.workflow_template}"
                )
    return problems


def check_all(docs: list[Doc]) -> list[str]:
    """Every policy at once (what the platform tests and a CI gate run)."""
    return (
        check_pod_security(docs)
        + check_emissary(docs)
        + check_described_and_versioned(docs)
        + check_retries(docs)
        + check_references(docs)
        + check_sensor_parameters(docs)
    )
