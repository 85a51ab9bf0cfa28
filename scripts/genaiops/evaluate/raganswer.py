"""End-to-end answer quality of a RAG config when a generator is configured: retrieve, generate, score.

Configuration, in rag.yaml (``$GENAIOPS_RAG_GENERATOR`` names another prompt id for one run)::

    eval:
      generator:
        prompt: rag-answer            # a prompt artifact (artifacts/prompts/<id>/)
        dataset: eval/answers.jsonl   # {"id", "question", "answer", "category"?} per line
        thresholds: {answer_token_f1: 0.4, answer_rouge_l: 0.35}   # optional minimums

The prompt is the generator: its template receives ``question`` (the question) and ``documents``
(the top ``retrieval.top_k`` documents the candidate index returns for it, best first, each ``{id,
title, text}``), is rendered in the sandbox as prompt eval renders it and sent as one user message to
the model of the prompt's ``model_config`` with that config's sampling parameters - through the
provider layer, so responses are cached and recorded or replayed as cassettes in the RAG artifact's
``eval/cassettes/``. The final answer (``metrics.text.final_answer``) is scored against the ground
truth: ``answer_token_f1`` (SQuAD token F1) and ``answer_rouge_l`` (ROUGE-L F, Unicode tokenizer), per
question, so they are compared with the deployed baseline like the retrieval metrics.
``answer_context_hit`` is the share of questions whose ``source`` documents (optional list in the
dataset) were among the passages given to the generator.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import TemplateError

from genaiops import rules, templating
from genaiops.beir import Document
from genaiops.discovery import Artifact
from genaiops.errors import ArtifactError
from genaiops.llm.types import ChatRequest
from genaiops.metrics import text as textmetrics
from genaiops.project import load_project
from genaiops.report import ArtifactResult
from genaiops.safeio import iter_jsonl, load_yaml, read_text

from .prompt import MAX_PROMPT_CHARS, TEMPLATE_FILE, _model, template_context
from .session import EvalSession, MetricSpec

GENERATOR_ENV = "GENAIOPS_RAG_GENERATOR"
DEFAULT_DATASET = "eval/answers.jsonl"
METRICS = ("answer_token_f1", "answer_rouge_l", "answer_context_hit")
MAX_QUESTIONS = 500

GENERATOR_UNUSABLE = rules.rule(
    "rag/eval-generator-unusable",
    "eval",
    "The configured generator cannot run: the prompt artifact, its template or model config is "
    "missing or unrenderable, or the answers dataset is malformed.",
    "Fix eval.generator in rag.yaml (prompt id, dataset path) or the prompt artifact it names.",
)

GENERATOR_SKIPPED = rules.rule(
    "rag/eval-generator-skipped",
    "eval",
    "eval.generator names a prompt, but this repository does not use the prompt and model-config kinds "
    "(genaiops.yaml `kinds`), so end-to-end answer quality is not evaluated (warning).",
    "Add the prompt and model-config kinds to the repository, or remove eval.generator from rag.yaml.",
)


@dataclass(frozen=True)
class Question:
    """One line of the answers dataset."""

    id: str
    question: str
    answer: str
    category: str | None = None
    sources: tuple[str, ...] = ()


@dataclass
class Generator:
    """A loaded, renderable generator prompt with its model and questions."""

    prompt_id: str
    manifest: Mapping[str, Any]
    ast: Any
    model: str
    params: dict[str, Any]
    questions: list[Question]
    dataset: Path
    thresholds: dict[str, float] = field(default_factory=dict)

    def render(self, question: Question, documents: Sequence[Document]) -> str:
        """The user message for ``question`` with ``documents`` as the retrieved passages."""
        values = {
            "question": question.question,
            "documents": [{"id": d.id, "title": d.title, "text": d.text} for d in documents],
        }
        variables = self.manifest.get("variables")
        if isinstance(variables, Mapping):
            import jsonschema  # on first use: ~0.1 s to import

            error = jsonschema.exceptions.best_match(
                jsonschema.Draft202012Validator(dict(variables)).iter_errors(values)
            )
            if error is not None:
                raise ValueError(f"the generator's variables reject the passages: {error.message}")
        text, truncated = templating.render(
            self.ast, template_context(self.manifest, values), MAX_PROMPT_CHARS
        )
        if truncated:
            raise ValueError(f"the rendering exceeds {MAX_PROMPT_CHARS} characters")
        return text


def configured(manifest: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``eval.generator`` mapping (prompt overridden by ``$GENAIOPS_RAG_GENERATOR``), or None."""
    eval_cfg = manifest.get("eval") if isinstance(manifest.get("eval"), Mapping) else {}
    raw = eval_cfg.get("generator") if isinstance(eval_cfg, Mapping) else None
    cfg = dict(raw) if isinstance(raw, Mapping) else {}
    override = os.environ.get(GENERATOR_ENV, "").strip()
    if override:
        cfg["prompt"] = override
    return cfg if cfg.get("prompt") else None


def load(artifact: Artifact, cfg: Mapping[str, Any], result: ArtifactResult) -> Generator | None:
    """Load the generator prompt and the answers dataset; a problem is a finding and gives None."""
    rel_manifest = artifact.rel(artifact.manifest_path)
    missing_kinds = [k for k in ("prompt", "model-config") if k not in load_project(artifact.repo).kinds]
    if missing_kinds:
        result.add(
            GENERATOR_SKIPPED,
            f"answer quality not evaluated: this repository has no {' or '.join(missing_kinds)} artifacts "
            "(genaiops.yaml kinds), so the generator prompt cannot run",
            severity="warning",
            file=rel_manifest,
        )
        return None
    prompt_id = str(cfg["prompt"])
    root = artifact.repo / "artifacts" / "prompts" / prompt_id
    if "/" in prompt_id or prompt_id.startswith(".") or not (root / "prompt.yaml").is_file():
        result.add(
            GENERATOR_UNUSABLE,
            f"generator prompt {prompt_id!r} is not under artifacts/prompts/",
            file=rel_manifest,
        )
        return None
    try:
        manifest = load_yaml(root / "prompt.yaml", artifact.repo).data
        ast = templating.parse(read_text(root / TEMPLATE_FILE, artifact.repo))
    except (ArtifactError, templating.TemplateSyntaxError) as exc:
        result.add(GENERATOR_UNUSABLE, f"generator prompt {prompt_id!r}: {exc}", file=rel_manifest)
        return None
    if not isinstance(manifest, Mapping):
        result.add(
            GENERATOR_UNUSABLE,
            f"generator prompt {prompt_id!r}: prompt.yaml is not a mapping",
            file=rel_manifest,
        )
        return None
    blocking = [i for i in templating.analyze(ast, {}).issues if i.kind in ("unsafe", "non-portable")]
    if blocking:
        result.add(
            GENERATOR_UNUSABLE, f"generator prompt {prompt_id!r}: {blocking[0].message}", file=rel_manifest
        )
        return None
    model, params = _model(artifact, manifest, result, rel_manifest)
    if model is None:
        return None
    dataset = artifact.root / str(cfg.get("dataset") or DEFAULT_DATASET)
    questions = _questions(artifact, dataset, result)
    if questions is None:
        return None
    thresholds = cfg.get("thresholds") if isinstance(cfg.get("thresholds"), Mapping) else {}
    return Generator(
        prompt_id,
        manifest,
        ast,
        model,
        params,
        questions,
        dataset,
        {
            str(k): float(v)
            for k, v in thresholds.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
        },
    )


def _questions(artifact: Artifact, path: Path, result: ArtifactResult) -> list[Question] | None:
    rel = artifact.rel(path)
    if not path.is_file():
        result.add(GENERATOR_UNUSABLE, f"answers dataset {rel} does not exist", file=rel)
        return None
    questions: list[Question] = []
    seen: set[str] = set()
    try:
        lines = list(iter_jsonl(path, artifact.repo))
    except ArtifactError as exc:
        result.add(GENERATOR_UNUSABLE, str(exc), file=rel)
        return None
    for line, record in lines:
        ok = isinstance(record, dict) and all(
            isinstance(record.get(k), str) and record[k].strip() for k in ("id", "question", "answer")
        )
        sources = record.get("sources", []) if isinstance(record, dict) else None
        if not ok or not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            result.add(
                GENERATOR_UNUSABLE,
                "an answers record needs non-empty string id, question and answer "
                "(sources: a list of doc ids)",
                file=rel,
                line=line,
            )
            return None
        if record["id"] in seen:
            result.add(
                GENERATOR_UNUSABLE, f"duplicate answers record id {record['id']!r}", file=rel, line=line
            )
            return None
        seen.add(record["id"])
        category = record.get("category")
        questions.append(
            Question(
                record["id"],
                record["question"],
                record["answer"],
                category if isinstance(category, str) else None,
                tuple(sources),
            )
        )
    if not questions:
        result.add(GENERATOR_UNUSABLE, f"answers dataset {rel} has no records", file=rel)
        return None
    return questions[:MAX_QUESTIONS]


@dataclass
class Answers:
    """Per-question scores and outputs of a generator run."""

    per_example: dict[str, dict[str, list[float]]]
    outputs: dict[str, str]
    specs: dict[str, MetricSpec]


def run(
    session: EvalSession,
    generator: Generator,
    retrieve: Callable[[Mapping[str, str]], dict[str, list[tuple[str, float]]]],
    documents: Mapping[str, Document],
    top_k: int,
) -> Answers | None:
    """Retrieve passages for every question, generate answers through the provider, score them."""
    ranked = retrieve({q.id: q.question for q in generator.questions})
    requests: list[ChatRequest] = []
    passages: dict[str, list[str]] = {}
    for question in generator.questions:
        docs = [documents[doc_id] for doc_id, _ in ranked.get(question.id, [])[:top_k] if doc_id in documents]
        passages[question.id] = [d.id for d in docs]
        try:
            text = generator.render(question, docs)
        except (ValueError, TypeError, TemplateError, templating.IterationLimitExceeded) as exc:
            session.result.add(
                GENERATOR_UNUSABLE,
                f"{question.id}: generator prompt {generator.prompt_id!r} does not render: {exc}",
                file=session.artifact.rel(generator.dataset),
            )
            return None
        requests.append(ChatRequest(generator.model, ({"role": "user", "content": text},), generator.params))
    with session.progress(len(requests)) as bar:
        responses = session.provider.chat_many(requests, bar)
    per_example: dict[str, dict[str, list[float]]] = {name: {} for name in METRICS}
    outputs: dict[str, str] = {}
    for question, response in zip(generator.questions, responses, strict=True):
        answer = textmetrics.final_answer(response.content)
        per_example["answer_token_f1"][question.id] = [textmetrics.token_f1(answer, question.answer)]
        per_example["answer_rouge_l"][question.id] = [textmetrics.rouge_l(answer, question.answer)]
        if question.sources:
            hit = any(s in passages[question.id] for s in question.sources)
            per_example["answer_context_hit"][question.id] = [float(hit)]
        outputs[question.id] = answer[:300]
    specs = {name: MetricSpec(name, minimum=generator.thresholds.get(name)) for name in METRICS}
    return Answers({k: v for k, v in per_example.items() if v}, outputs, specs)
