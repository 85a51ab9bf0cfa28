"""Throwaway repositories for validate tests: a clean base prompt and model config, plus mutations.

Each broken fixture is the clean base with one change (a ``Mutation``), so a test can show that
exactly one rule id fires.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CATALOG: dict[str, Any] = {
    "models": [
        {
            "name": "gpt-4o",
            "provider": "openai",
            "type": "chat",
            "context_window": 128000,
            "max_output_tokens": 16384,
            "tokenizer": "o200k_base",
            "environments": ["dev", "staging", "prod"],
        },
        {
            "name": "gpt-4o-mini",
            "provider": "openai",
            "type": "chat",
            "context_window": 128000,
            "max_output_tokens": 16384,
            "tokenizer": "o200k_base",
            "environments": ["dev", "staging", "prod"],
        },
        {
            "name": "gpt-4.1",
            "provider": "openai",
            "type": "chat",
            "context_window": 1047576,
            "max_output_tokens": 32768,
            "tokenizer": "o200k_base",
            "environments": ["dev", "staging"],
        },
    ]
}

MODEL_CONFIG: dict[str, Any] = {
    "id": "assistant",
    "version": "1.0.0",
    "description": "test config",
    "owner": "team",
    "provider": "openai",
    "model_name": "gpt-4o",
    "temperature": 0.0,
    "max_tokens": 512,
    "stop_sequences": ["\n\nUser:"],
    "fallback_model": "gpt-4o-mini",
    "timeout": 30,
    "fixtures": {
        "valid_responses": [
            {
                "description": "two paragraphs",
                "response": "First paragraph.\n\nSecond paragraph, then a list:\n1. one",
            },
            {"description": "json", "response": '{"label": "bug"}'},
        ]
    },
}

PROMPT: dict[str, Any] = {
    "id": "triage",
    "version": "1.0.0",
    "description": "Ticket triage",
    "owner": "team",
    "model_config": "assistant",
    "variables": {
        "type": "object",
        "required": ["ticket"],
        "additionalProperties": False,
        "properties": {"ticket": {"type": "string", "maxLength": 500}},
    },
    "output": {
        "format": "json",
        "schema": {
            "type": "object",
            "required": ["label"],
            "properties": {"label": {"enum": ["bug", "question"]}},
        },
    },
    "reasoning_cue": "Let me think step by step",
    "examples": [{"input": {"ticket": "The app crashes on start"}, "output": '{"label": "bug"}'}],
}

TEMPLATE = (
    "Classify the support ticket as a bug or a question. Let me think step by step.\n"
    "{% for example in examples %}Ticket: {{ example.input.ticket }}\n"
    "Answer: {{ example.output }}\n{% endfor %}"
    "Ticket: {{ ticket | trim }}\nAnswer: {"
)

TEST_CASES: list[dict[str, Any]] = [
    {
        "description": "question ticket",
        "vars": {"ticket": "How do I export my data?"},
        "assert": [
            {"type": "contains", "value": "{{ ticket }}"},
            {"type": "starts-with", "value": "Classify"},
            {"type": "regex", "value": "Ticket: How do I export"},
            {"type": "contains-json", "value": {"type": "object", "required": ["label"]}},
            {"type": "not-icontains", "value": "ignore previous instructions"},
        ],
        "metadata": {"target": "prompt"},
    },
    {
        "description": "no target: graded on the model response, in eval",
        "vars": {"ticket": "Crash when saving"},
        "assert": [
            {"type": "is-json"},
            {"type": "llm-rubric", "value": "The answer labels the ticket as a bug."},
        ],
    },
]


@dataclass
class Fixture:
    """The files of a validate test repository, as data."""

    prompt: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(PROMPT))
    template: str = TEMPLATE
    test_cases: Any = field(default_factory=lambda: copy.deepcopy(TEST_CASES))
    model_config: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(MODEL_CONFIG))
    environments: list[str] = field(default_factory=lambda: ["dev", "staging", "prod"])
    endpoints: dict[str, str] = field(default_factory=dict)

    def write(self, repo: Path) -> Path:
        def dump(rel: str, data: Any) -> None:
            path = repo / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            text = (
                data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
            )
            path.write_text(text, encoding="utf-8")

        dump("genaiops.yaml", {"project": "test", "environments": [{"name": e} for e in self.environments]})
        for env in self.environments:
            dump(
                f"environments/{env}/settings.yaml",
                {"environment": env, "llm": {"endpoint": self.endpoints.get(env, "")}},
            )
        dump("artifacts/catalog/models.yaml", CATALOG)
        dump("artifacts/model-configs/assistant/model-config.yaml", self.model_config)
        dump("artifacts/prompts/triage/prompt.yaml", self.prompt)
        dump("artifacts/prompts/triage/template.j2", self.template)
        dump("artifacts/prompts/triage/test_cases.yaml", self.test_cases)
        return repo


Mutation = Callable[[Fixture], None]


def build(repo: Path, mutate: Mutation | None = None) -> Path:
    """Write the base fixture (after ``mutate``) to ``repo``."""
    fixture = Fixture()
    if mutate is not None:
        mutate(fixture)
    return fixture.write(repo)


def finding_ids(report: dict[str, Any], *severities: str) -> set[str]:
    """Rule ids in a report, optionally only of the given severities."""
    return {
        f["ruleId"]
        for a in report["artifacts"]
        for f in a["findings"]
        if not severities or f["severity"] in severities
    }
