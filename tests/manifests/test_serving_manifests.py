"""The serving manifests keep their promises (docs/serving.md): restricted pods, /health readiness,
the canary's steps and analysis, the model-config blue-green, the artifact mounts a promotion fills,
the image mapping, and that every analysis query uses metrics and labels `genaiops serve` exports."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from genaiops.kinds import BY_NAME
from genaiops.promote import watch
from genaiops.promote.snapshot import configmap_name
from genaiops.serve.metrics import ServingMetrics
from tests.conftest import ENVIRONMENTS, REPO_ROOT

pytestmark = pytest.mark.tools

FIRST = ENVIRONMENTS[0]  # the first environment in promotion order (dev in the default answers)


def _build(kustomize: str, path: Path) -> list[dict[str, Any]]:
    proc = subprocess.run([kustomize, "build", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def _by(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _minutes(duration: str) -> float:
    value, unit = re.fullmatch(r"(\d+)([smh])", duration).groups()  # type: ignore[union-attr]
    return int(value) * {"s": 1 / 60, "m": 1, "h": 60}[unit]


@pytest.fixture(scope="module")
def dev(tools: dict[str, str]) -> list[dict[str, Any]]:
    return _build(tools["kustomize"], REPO_ROOT / "environments" / FIRST)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_serving_pods_are_restricted_probed_and_use_the_pipeline_image(
    env: str, tools: dict[str, str]
) -> None:
    docs = _build(tools["kustomize"], REPO_ROOT / "environments" / env)
    image = yaml.safe_load((REPO_ROOT / "genaiops.yaml").read_text())["image"]
    namespace = next(d for d in docs if d["kind"] == "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    rollouts = _by(docs, "Rollout")
    assert set(rollouts) == {"genai-gateway", "genai-model"}
    for rollout in rollouts.values():
        pod = rollout["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False
        assert all(v.get("hostPath") is None for v in pod["volumes"])
        for container in pod["containers"]:
            ctx = container["securityContext"]
            assert ctx["allowPrivilegeEscalation"] is False and ctx["capabilities"]["drop"] == ["ALL"]
            assert ctx["readOnlyRootFilesystem"] is True
            assert container["image"] == f"{image['name']}:{image['tag']}"
            assert container["args"][0] == "serve"
            assert container["readinessProbe"]["httpGet"]["path"] == "/health"
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            assert container["readinessProbe"]["httpGet"]["port"] in ports
            revision = next(e for e in container["env"] if e["name"] == "GENAIOPS_REVISION")
            assert (
                revision["valueFrom"]["fieldRef"]["fieldPath"]
                == "metadata.labels['rollouts-pod-template-hash']"
            )


def test_artifact_mounts_follow_the_promotion_layout(dev: list[dict[str, Any]]) -> None:
    """Each served artifact: env var names the id, the volume is the promotion's ConfigMap, mounted
    at <artifacts-dir>/<kind>/<id> (what `genaiops serve` reads)."""
    env_names = {
        "prompt": "GENAIOPS_SERVE_PROMPT",
        "guardrail": "GENAIOPS_SERVE_GUARDRAIL",
        "model-config": "GENAIOPS_SERVE_MODEL_CONFIG",
    }
    served: set[str] = set()
    for rollout in _by(dev, "Rollout").values():
        pod = rollout["spec"]["template"]["spec"]
        container = pod["containers"][0]
        env = {e["name"]: e.get("value") for e in container["env"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        for kind, var in env_names.items():
            if var not in env:
                continue
            ident = env[var]
            served.add(kind)
            volume = volumes[mounts[f"{env['GENAIOPS_ARTIFACTS_DIR']}/{kind}/{ident}"]]
            assert volume["configMap"]["name"] == configmap_name(kind, ident)
            assert volume["configMap"]["optional"] is True  # unready, not unschedulable, before a promotion
            assert kind in BY_NAME
    assert served == {"prompt", "guardrail", "model-config"}


def test_a_promoted_configmap_is_referenced_by_its_hashed_name(tmp_path: Path, tools: dict[str, str]) -> None:
    for top in ("base", FIRST):
        shutil.copytree(REPO_ROOT / "environments" / top, tmp_path / top)
    kustomization = tmp_path / FIRST / "kustomization.yaml"
    data = yaml.safe_load(kustomization.read_text())
    (tmp_path / FIRST / "prompt.yaml").write_text("id: support-qa-cot\n")
    data["configMapGenerator"].append(
        {"name": configmap_name("prompt", "support-qa-cot"), "files": ["prompt.yaml"]}
    )
    kustomization.write_text(yaml.safe_dump(data))
    docs = _build(tools["kustomize"], tmp_path / FIRST)
    hashed = next(n for n in _by(docs, "ConfigMap") if n.startswith("genaiops-prompt-support-qa-cot-"))
    settings = next(n for n in _by(docs, "ConfigMap") if n.startswith("genai-settings-"))
    volumes = {
        v["name"]: v["configMap"]["name"]
        for v in _by(docs, "Rollout")["genai-gateway"]["spec"]["template"]["spec"]["volumes"]
        if "configMap" in v
    }
    assert volumes["prompt"] == hashed and volumes["settings"] == settings


def test_prompt_canary_steps_and_analysis(dev: list[dict[str, Any]]) -> None:
    canary = _by(dev, "Rollout")["genai-gateway"]["spec"]["strategy"]["canary"]
    steps = canary["steps"]
    weights = [s["setWeight"] for s in steps if "setWeight" in s]
    assert weights[0] == 5 and weights == sorted(weights) and weights[-1] < 100
    assert 100 <= sum(_minutes(s["pause"]["duration"]) for s in steps if "pause" in s) <= 140  # ~2 hours
    assert all("pause" in s and "duration" in s["pause"] for s in steps[1::2])  # never an indefinite pause
    analysis = canary["analysis"]
    args = {a["name"]: a for a in analysis["args"]}
    assert args["canary-hash"]["valueFrom"]["podTemplateHashValue"] == "Latest"
    assert args["stable-hash"]["valueFrom"]["podTemplateHashValue"] == "Stable"
    template = _by(dev, "AnalysisTemplate")[analysis["templates"][0]["templateName"]]
    metric = template["spec"]["metrics"][0]
    assert metric["failureLimit"] == 0  # one failed measurement aborts: immediate rollback
    query = metric["provider"]["prometheus"]["query"]
    for needed in (
        "{{args.canary-hash}}",
        "{{args.stable-hash}}",
        "stddev_over_time",
        "avg_over_time",
        'outcome="error"',
    ):
        assert needed in query
    services = _by(dev, "Service")
    assert canary["canaryService"] in services and canary["stableService"] in services


def test_model_config_blue_green(dev: list[dict[str, Any]]) -> None:
    blue_green = _by(dev, "Rollout")["genai-model"]["spec"]["strategy"]["blueGreen"]
    services = _by(dev, "Service")
    assert blue_green["activeService"] in services and blue_green["previewService"] in services
    assert blue_green["autoPromotionEnabled"] is True
    assert blue_green["scaleDownDelaySeconds"] >= 300  # the previous colour stays up to revert to
    templates = _by(dev, "AnalysisTemplate")
    smoke = templates[blue_green["prePromotionAnalysis"]["templates"][0]["templateName"]]
    urls = [m["provider"]["web"]["url"] for m in smoke["spec"]["metrics"]]
    assert any(u.endswith("/health") for u in urls) and any(u.endswith("/v1/chat/completions") for u in urls)
    assert any(a.get("value") == blue_green["previewService"] for a in smoke["spec"]["args"])
    post = templates[blue_green["postPromotionAnalysis"]["templates"][0]["templateName"]]
    assert all(m["failureLimit"] == 0 for m in post["spec"]["metrics"])
    # The model tier is what the gateway calls.
    gateway = _by(dev, "Rollout")["genai-gateway"]["spec"]["template"]["spec"]["containers"][0]
    assert f"--upstream=http://{blue_green['activeService']}:8080/v1" in gateway["args"]


def test_analysis_queries_use_the_metrics_serve_exports(dev: list[dict[str, Any]]) -> None:
    exported: dict[str, set[str]] = {}
    for family in ServingMetrics().registry.collect():
        for suffix in ("_total", "_bucket", ""):
            exported[family.name + suffix] = set()
    metrics = ServingMetrics("r")
    metrics.observe([("prompt", "p", "1")], "ok", 0.1)
    metrics.verdict("g", "1", "ALLOW")
    for family in metrics.registry.collect():
        for sample in family.samples:
            exported.setdefault(sample.name, set()).update(sample.labels)
    queries = [
        m["provider"]["prometheus"]["query"]
        for t in _by(dev, "AnalysisTemplate").values()
        for m in t["spec"]["metrics"]
        if "prometheus" in m["provider"]
    ]
    assert len(queries) == 3
    # The rollback watch (genaiops watch) queries the same series.
    fill = {"kind": "prompt", "id": "p", "version": "1", "window": "5m", "env": "dev"}
    queries += [
        watch.render(watch.DEFAULT_ERROR_QUERY, fill),
        watch.render(watch.DEFAULT_LATENCY_QUERY, fill),
    ]
    added_by_prometheus = {"namespace"}
    for query in queries:
        selectors = re.findall(r"(genaiops_[a-z_]+)\{([^}]*)\}", query)
        assert selectors, query
        for name, matchers in selectors:
            assert name in exported, name
            labels = set(re.findall(r"([a-z_]+)=", matchers))
            assert labels <= exported[name] | added_by_prometheus, (name, labels - exported[name])
    for outcome in re.findall(r'outcome="([a-z]+)"', "\n".join(queries)):
        assert outcome in ("ok", "blocked", "rejected", "error")


def _condition(expression: str, args: dict[str, str]) -> Callable[[list[float]], bool]:
    """An Argo Rollouts metric condition (expr-lang) as a Python predicate of `result`. It covers what
    our conditions use: `len`, `isNaN`, indexing, comparisons, `&&`, `||` and `!` (all short-circuit,
    as in expr), with `{{args.NAME}}` filled from the template's defaults."""
    filled = re.sub(r"\{\{args\.([a-z-]+)\}\}", lambda m: args[m.group(1)], expression)
    python = filled.replace("&&", " and ").replace("||", " or ")
    python = re.sub(r"!(?!=)", " not ", python).replace("isNaN", "math.isnan")
    code = compile(python, "<condition>", "eval")
    return lambda result: bool(eval(code, {"math": math, "len": len, "__builtins__": {}}, {"result": result}))


class _Json(dict):  # type: ignore[type-arg]
    """A JSON object whose members read as attributes, as expr-lang reads `result.status` (absent: None)."""

    def __getattr__(self, name: str) -> Any:
        return _json(self.get(name))


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return _Json({k: _json(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def test_the_smoke_test_passes_only_on_an_answer_from_the_new_colour(dev: list[dict[str, Any]]) -> None:
    """Right after the preview Service selects the new colour, kube-proxy may still route a request to
    the colour it selected before: an answer from that one must not pass the new one's smoke test. Each
    check passes at its first answer from the revision under test (its pod-template hash, which
    `genaiops serve` reports as `revision` and `system_fingerprint`), fails after 6 others."""
    blue_green = _by(dev, "Rollout")["genai-model"]["spec"]["strategy"]["blueGreen"]
    pre = blue_green["prePromotionAnalysis"]
    [revision] = [a for a in pre["args"] if a["name"] == "revision"]
    assert revision["valueFrom"] == {"podTemplateHashValue": "Latest"}
    smoke = _by(dev, "AnalysisTemplate")[pre["templates"][0]["templateName"]]
    args = {a["name"]: a["value"] for a in smoke["spec"]["args"] if "value" in a} | {"revision": "5d8f9c"}
    answers = {
        "/health": (
            {"status": "ready", "revision": "5d8f9c"},
            [{"status": "ready", "revision": "7b3a21"}, {"status": "not-ready", "revision": "5d8f9c"}, {}],
        ),
        "/v1/chat/completions": (
            {"system_fingerprint": "5d8f9c", "choices": [{"message": {"content": "ready"}}]},
            [
                {"system_fingerprint": "7b3a21", "choices": [{"message": {"content": "ready"}}]},
                {"system_fingerprint": "5d8f9c", "choices": [{"message": {"content": ""}}]},
                {"system_fingerprint": "5d8f9c", "choices": []},
                {"error": "upstream failed"},
            ],
        ),
    }
    for metric in smoke["spec"]["metrics"]:
        assert metric["provider"]["web"]["jsonPath"] == "{$}", metric["name"]
        assert metric["consecutiveSuccessLimit"] == 1 and metric["failureLimit"] == -1, metric["name"]
        assert metric["count"] > 1 and "interval" in metric, metric["name"]
        # a connection kept alive from an earlier analysis leads to the colour selected back then
        assert {"key": "Connection", "value": "close"} in metric["provider"]["web"]["headers"], metric["name"]
        good, bad = next(v for k, v in answers.items() if metric["provider"]["web"]["url"].endswith(k))
        success = _condition(metric["successCondition"], args)
        assert success(_json(good)), metric["name"]
        assert not any(success(_json(answer)) for answer in bad), metric["name"]


def test_missing_metrics_are_inconclusive_never_a_pass(dev: list[dict[str, Any]]) -> None:
    """No series, or 0/0 (NaN), satisfies neither condition: Argo Rollouts records Inconclusive and,
    past inconclusiveLimit, pauses the Rollout. A value on the right side of the threshold passes, on
    the wrong side fails. No query hides missing data behind a constant (`or on() vector(0)`)."""
    checked = 0
    for template in _by(dev, "AnalysisTemplate").values():
        args = {a["name"]: a["value"] for a in template["spec"].get("args", []) if "value" in a}
        for metric in template["spec"]["metrics"]:
            if "prometheus" not in metric["provider"]:
                continue
            checked += 1
            assert "vector(" not in metric["provider"]["prometheus"]["query"], metric["name"]
            success = _condition(metric["successCondition"], args)
            failure = _condition(metric["failureCondition"], args)
            for no_data in ([], [math.nan]):
                assert not success(no_data) and not failure(no_data), (metric["name"], no_data)
            good = 0.0
            bad = 1e6
            assert success([good]) and not failure([good]), metric["name"]
            assert failure([bad]) and not success([bad]), metric["name"]
            assert metric["failureLimit"] == 0 and metric["inconclusiveLimit"] >= 1, metric["name"]
    assert checked == 3


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A LabelSelector's verdict on ``labels`` (matchLabels and the In/Exists/DoesNotExist operators)."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, op, values = expression["key"], expression["operator"], expression.get("values") or []
        ok = {
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
            "In": labels.get(key) in values,
            "NotIn": labels.get(key) not in values,
        }[op]
        if not ok:
            return False
    return True


def test_only_allowed_callers_reach_the_serving_pods(dev: list[dict[str, Any]]) -> None:
    """The NetworkPolicy selects every serving pod (and nothing else in the namespace), opens only their
    serving port, and admits this namespace, namespaces labelled for serving access and the Rollouts
    controller, whose smoke test calls the preview colour; any other namespace is left out."""
    [policy] = _by(dev, "NetworkPolicy").values()
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress"]
    for rollout in _by(dev, "Rollout").values():
        template = rollout["spec"]["template"]
        assert _selects(spec["podSelector"], template["metadata"]["labels"]), rollout["metadata"]["name"]
        ports = {p["containerPort"] for c in template["spec"]["containers"] for p in c.get("ports", [])}
        assert {p["port"] for rule in spec["ingress"] for p in rule["ports"]} == ports
    assert not _selects(spec["podSelector"], {"app.kubernetes.io/component": "something-else"})
    [rule] = spec["ingress"]
    sources = rule["from"]
    assert {"podSelector": {}} in sources  # same namespace only: no namespaceSelector next to it

    def admitted(namespace_labels: dict[str, str]) -> bool:
        return any(
            "namespaceSelector" in source and _selects(source["namespaceSelector"], namespace_labels)
            for source in sources
        )

    assert admitted({"kubernetes.io/metadata.name": "argo-rollouts"})
    assert admitted({"kubernetes.io/metadata.name": "shop", "genaiops.dev/serving-access": "true"})
    assert not admitted({"kubernetes.io/metadata.name": "default"})
    assert not admitted({"kubernetes.io/metadata.name": "shop", "genaiops.dev/serving-access": "false"})
