"""Eval of model configs: shadow comparison of the candidate against the current config on replayed traffic.

*Traffic.* The request log ``eval/request-log.jsonl`` of the config when it has one (OpenAI chat
request bodies captured from production, ``genaiops.evaluate.requestlog``); otherwise the eval traffic
of the prompts written for this config: every record of the eval dataset of each prompt whose
``model_config`` is this artifact, rendered as the prompt eval renders it, as one user message. At most
``MAX_REQUESTS`` are replayed.

*Current config.* The manifest as it was at ``--base-ref`` (or ``$GENAIOPS_BASE_REF``; git). Without
one, or when the config is new, there is no shadow comparison: the candidate's telemetry is reported
against the deployed baseline scorecard and absolute bounds only.

*Metrics* (``metrics.shadow``): ``shadow_similarity`` (mean cosine of the two responses' embeddings per
request; ``eval.embeddingModel``, default the offline ``genaiops/hash-embedding-256``),
``shadow_flagged_rate`` (share of pairs below the threshold: 0.85, or
``expected_drift.similarity_threshold`` / 0.6 when the config declares ``expected_drift``; at most
``eval.maxFlaggedRate``, default 10%, and not enforced with expected drift, where the rubric
decides), ``latency_p50_ms``/``latency_p95_ms`` and ``prompt_tokens_mean``/``completion_tokens_mean``
of the candidate (information), ``latency_ms`` per request compared with the baseline (a 25%
slow-down whose interval excludes zero fails; not with synthetic responses, whose latency is the
reference server's), and with ``expected_drift.rubric`` the judge's mean
rubric score (``drift_rubric``, 1-5) on the candidate's responses. Flagged pairs are listed in the
scorecard.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import yaml

from genaiops import rules, templating
from genaiops.discovery import Artifact
from genaiops.errors import ArtifactError, UsageError
from genaiops.gitutil import show_at
from genaiops.llm.types import ChatRequest, EmbeddingRequest
from genaiops.metrics.judge import judge_request, parse_judgement
from genaiops.metrics.shadow import compare_pairs, latency_percentiles, similarity_threshold, token_usage
from genaiops.report import ArtifactResult
from genaiops.safeio import iter_jsonl, load_yaml, read_text
from genaiops.scorecard import MetricResult, Scorecard
from genaiops.stages.runner import StageContext

from .guardrail import BASE_REF_ENV
from .prompt import MAX_PROMPT_CHARS, TEMPLATE_FILE, sampling_params, template_context
from .requestlog import REQUEST_LOG, LoggedRequest
from .requestlog import load as load_request_log
from .session import EvalSession, MetricSpec

MAX_REQUESTS = 500
DEFAULT_MAX_FLAGGED = 0.1
EMBEDDING_DEFAULT = "genaiops/hash-embedding-256"

NO_TRAFFIC = rules.rule(
    "model-config/eval-no-traffic",
    "eval",
    "No prompt with an eval dataset targets this model config, so there is no traffic to replay (info).",
    "Add eval datasets to the prompts that use the config.",
)
BAD_REQUEST_LOG = rules.rule(
    "model-config/eval-bad-request-log",
    "eval",
    "The request log (eval/request-log.jsonl) cannot be read or has a malformed request.",
    "Each line is an OpenAI chat request body: messages (role + string content) and optional "
    "metadata.request_id / metadata.route; see docs/artifacts/model-configs.md.",
)
PAIR_FLAGGED = rules.rule(
    "model-config/eval-pair-flagged",
    "eval",
    "The candidate's response to a replayed request is semantically far from the current config's (warning).",
    "Check the listed pairs; declare expected_drift if the change in behaviour is intended.",
)


def check(artifact: Artifact, result: ArtifactResult, ctx: StageContext) -> None:
    """Shadow-evaluate one model config and attach the scorecard."""
    manifest = ctx.manifest(artifact).data
    log_path = artifact.root / REQUEST_LOG
    if log_path.is_file():
        logged = _request_log(artifact, log_path, result)
        if logged is None:
            return
        traffic, source = logged, artifact.rel(log_path)
    else:
        traffic, source = _traffic(artifact), "prompt eval datasets"
    if not traffic:
        result.add(
            NO_TRAFFIC, f"no prompt with an eval dataset uses model config {artifact.id!r}", severity="info"
        )
    session = EvalSession.open(artifact, result, ctx)
    try:
        _run(session, manifest, traffic, source)
    finally:
        session.close()


def _request_log(artifact: Artifact, path: Any, result: ArtifactResult) -> list[LoggedRequest] | None:
    """The replayable requests of the config's request log; None (with findings) when it is unusable."""
    rel = artifact.rel(path)
    try:
        requests, problems = load_request_log(path, artifact.repo)
    except ArtifactError as exc:
        result.add(BAD_REQUEST_LOG, str(exc), file=rel)
        return None
    for line, message in problems[:20]:
        result.add(BAD_REQUEST_LOG, message, file=rel, line=line)
    if problems:
        return None
    if not requests:
        result.add(BAD_REQUEST_LOG, f"{rel} holds no request", file=rel)
        return None
    if len(requests) > MAX_REQUESTS:
        result.add(
            BAD_REQUEST_LOG,
            f"{rel}: replaying the first {MAX_REQUESTS} of {len(requests)} requests",
            file=rel,
            severity="info",
        )
    return requests[:MAX_REQUESTS]


def _traffic(artifact: Artifact) -> list[LoggedRequest]:
    """One user message per eval record of every prompt that uses this config, rendered."""
    requests: list[LoggedRequest] = []
    prompts = artifact.repo / "artifacts" / "prompts"
    for manifest_path in sorted(prompts.glob("*/prompt.yaml")) if prompts.is_dir() else []:
        data = load_yaml(manifest_path, artifact.repo).data
        if not isinstance(data, Mapping) or data.get("model_config") != artifact.id:
            continue
        root = manifest_path.parent
        eval_cfg = data.get("eval") if isinstance(data.get("eval"), Mapping) else {}
        dataset = root / str(eval_cfg.get("dataset") or "eval/dataset.jsonl")
        template_path = root / TEMPLATE_FILE
        if not dataset.is_file() or not template_path.is_file():
            continue
        try:
            ast = templating.parse(read_text(template_path, artifact.repo))
        except templating.TemplateSyntaxError:
            continue
        if any(i.kind in ("unsafe", "non-portable") for i in templating.analyze(ast, {}).issues):
            continue
        for _, record in iter_jsonl(dataset, artifact.repo):
            if not isinstance(record, dict) or not isinstance(record.get("vars"), dict):
                continue
            try:
                text, truncated = templating.render(
                    ast, template_context(data, record["vars"]), MAX_PROMPT_CHARS
                )
            except Exception:
                continue
            if not truncated:
                requests.append(
                    LoggedRequest(
                        f"{root.name}/{record.get('id')}", root.name, ({"role": "user", "content": text},)
                    )
                )
    return requests[:MAX_REQUESTS]


def _max_flagged(session: EvalSession) -> float:
    """``eval.maxFlaggedRate`` from genaiops.yaml (default 10%)."""
    raw = session.ctx.project.settings.get("eval")
    value = raw.get("maxFlaggedRate", DEFAULT_MAX_FLAGGED) if isinstance(raw, dict) else DEFAULT_MAX_FLAGGED
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise UsageError("eval.maxFlaggedRate in genaiops.yaml must be a rate in [0, 1]")
    return float(value)


def _previous(session: EvalSession) -> Mapping[str, Any] | None:
    ref = session.ctx.options.get("base_ref") or os.environ.get(BASE_REF_ENV)
    if not ref:
        session.notes.append("no --base-ref: no current config to shadow; candidate telemetry only")
        return None
    rel = session.artifact.rel(session.artifact.manifest_path)
    text = show_at(session.artifact.repo, ref, rel)
    try:
        data = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        data = None
    if not isinstance(data, Mapping) or not isinstance(data.get("model_name"), str):
        session.notes.append(f"{rel} at {ref} is missing or unreadable: no shadow comparison")
        return None
    return data


def _run(
    session: EvalSession, manifest: Mapping[str, Any], traffic: list[LoggedRequest], source: str
) -> None:
    candidate_model, candidate_params = str(manifest.get("model_name")), sampling_params(manifest)
    previous = _previous(session) if traffic else None
    drift = manifest.get("expected_drift")
    drift_cfg = drift if isinstance(drift, Mapping) else {}
    threshold = similarity_threshold(bool(drift), drift_cfg.get("similarity_threshold"))
    candidate_requests = [ChatRequest(candidate_model, r.messages, candidate_params) for r in traffic]
    per_example: dict[str, dict[str, list[float]]] = {}
    order: list[str] = []
    specs: dict[str, MetricSpec] = {}
    flagged_pairs: list[dict[str, Any]] = []
    with session.progress(len(traffic) * (2 if previous else 1)) as bar:
        candidate = session.provider.chat_many(candidate_requests, bar)
        if previous is not None:
            current = session.provider.chat_many(
                [
                    ChatRequest(str(previous["model_name"]), r.messages, sampling_params(previous))
                    for r in candidate_requests
                ],
                bar,
            )
            model = session.settings.embedding_model or EMBEDDING_DEFAULT
            texts = [r.content for r in current] + [r.content for r in candidate]
            vectors = session.provider.embed(EmbeddingRequest(model, tuple(texts))).vectors
            ids = [r.id for r in traffic]
            shadow = compare_pairs(ids, vectors[: len(ids)], vectors[len(ids) :], threshold)
            for pair in shadow.pairs:
                per_example.setdefault("shadow_similarity", {})[pair.id] = [pair.similarity]
                per_example.setdefault("shadow_flagged_rate", {})[pair.id] = [float(pair.flagged)]
            order += ["shadow_similarity", "shadow_flagged_rate"]
            max_flagged = None if drift else _max_flagged(session)
            specs["shadow_flagged_rate"] = MetricSpec(
                "shadow_flagged_rate", higher_is_better=False, maximum=max_flagged
            )
            for pair in shadow.flagged[:20]:
                session.result.add(
                    PAIR_FLAGGED,
                    f"{pair.id}: similarity {pair.similarity:.3f} < {threshold:g}",
                    severity="warning",
                )
            flagged_pairs = [p.to_json() for p in shadow.flagged]
        if drift_cfg.get("rubric") and traffic:
            rubric = f"The response should be {drift_cfg['rubric']} while still answering the request."
            judge = session.settings.judge_model or candidate_model
            verdicts = session.provider.chat_many(
                [
                    judge_request(judge, request.last_user, r.content, rubric=rubric)
                    for request, r in zip(traffic, candidate, strict=True)
                ]
            )
            for request, verdict in zip(traffic, verdicts, strict=True):
                judgement = parse_judgement(verdict.content)
                if judgement.overall is not None:
                    per_example.setdefault("drift_rubric", {})[request.id] = [1 + 4 * judgement.overall]
            order.append("drift_rubric")
    telemetry = {
        **latency_percentiles([r.latency_s for r in candidate]),
        **token_usage([r.prompt_tokens for r in candidate], [r.completion_tokens for r in candidate]),
    }
    if session.provider.provenance().get("synthetic"):
        # a reference server's latency (or its recording's) measures the machine it ran on, not the model:
        # compared with the baseline it only gates on load noise (a scheduled check failed on +36% so)
        session.notes.append(
            "latency_ms is not compared with the baseline: the responses are synthetic, so their latency "
            "says nothing about the model (latency_p50_ms and latency_p95_ms are reported)"
        )
    else:
        for request, response in zip(traffic, candidate, strict=True):
            if response.latency_s is not None:
                per_example.setdefault("latency_ms", {})[request.id] = [response.latency_s * 1000]
    if "latency_ms" in per_example:
        order.append("latency_ms")
        specs["latency_ms"] = MetricSpec("latency_ms", higher_is_better=False, max_regression=0.25)
    metrics = session.score(per_example, specs, [name for name in order if name in per_example])
    for name, value in telemetry.items():
        metrics.append(MetricResult.absolute(name, value, higher_is_better=False))
    card = Scorecard(
        kind="model-config",
        id=session.artifact.id,
        version=session.result.version,
        digest=session.result.digest,
        environment=session.ctx.options.get("env"),
        metrics=metrics,
        provenance={
            "model": candidate_model,
            "params": candidate_params,
            "requests": len(traffic),
            "traffic": source,
            "currentModel": previous.get("model_name") if previous else None,
            "similarityThreshold": threshold,
            "expectedDrift": bool(drift),
            "flaggedPairs": flagged_pairs,
        },
        examples=[
            {
                "id": request.id,
                "category": request.category,
                "scores": {
                    name: per_example[name][request.id]
                    for name in per_example
                    if request.id in per_example[name]
                },
                "output": response.content[:300],
            }
            for request, response in zip(traffic, candidate, strict=True)
        ],
    )
    session.publish(card)
