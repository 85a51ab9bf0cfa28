"""The fastjsonschema fast path never passes a document that jsonschema (the reference) rejects.

Documents are the repository's examples mutated at random: one value replaced, removed or added
anywhere in the tree. fastjsonschema may reject more than jsonschema (its draft-07 `integer`
excludes 1.0, for instance): then jsonschema re-checks and decides, so only a fast *pass* on an
invalid document would be a bug.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genaiops import schemacheck
from tests.conftest import PRESENT_KINDS

ROOT = Path(__file__).resolve().parents[2]
# the artifact kind whose examples seed each schema (the catalog is shared by every kind)
SCHEMA_KIND = {
    "prompt": "prompt",
    "prompt-test-cases": "prompt",
    "prompt-dataset": "prompt",
    "model-config": "model-config",
    "guardrail-policy": "guardrail",
    "guardrail-suite": "guardrail",
    "rag": "rag",
}


def _seeds() -> dict[str, list[Any]]:
    art = ROOT / "artifacts"
    seeds: dict[str, list[Any]] = {
        "prompt": [
            yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(art.glob("prompts/*/prompt.yaml"))
        ],
        "prompt-test-cases": [
            yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in sorted(art.glob("prompts/*/test_cases.yaml"))
        ],
        "prompt-dataset": [
            json.loads(line)
            for p in sorted(art.glob("prompts/*/eval/dataset.jsonl"))
            for line in p.read_text(encoding="utf-8").splitlines()[:2]
        ],
        "model-config": [
            yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in sorted(art.glob("model-configs/*/model-config.yaml"))
        ],
        "catalog": [yaml.safe_load((art / "catalog/models.yaml").read_text(encoding="utf-8"))],
        "guardrail-policy": [
            yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in sorted(art.glob("guardrails/*/policy.yaml"))
        ],
        "guardrail-suite": [
            yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in sorted(art.glob("guardrails/*/tests/suite.yaml"))
        ],
        "rag": [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(art.glob("rag/*/rag.yaml"))],
    }
    # a rendered repository ships only its selected kinds' examples
    return {
        name: docs for name, docs in seeds.items() if SCHEMA_KIND.get(name, PRESENT_KINDS[0]) in PRESENT_KINDS
    }


SEEDS = _seeds()
CASES = [(name, index) for name, docs in SEEDS.items() for index in range(len(docs))]

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.sampled_from([0, 1, 1.0, 2.5, -1, 0.5, 100000, 10**7])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "",
            "text",
            "json",
            "chat",
            "(?m)^x",
            "[a-",
            "gpt-4o",
            "0.1.0",
            "regex",
            "not-contains",
            "BLOCK",
            "FLAG",
            "ALLOW",
            "PII_CARD",
            "pii",
            "input",
            "cosine",
            "both",
            "https://x.invalid",
        ]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _locations(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _locations(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _locations(value, (*path, index))
    return found


def _mutate(doc: Any, path: tuple[Any, ...], action: str, value: Any, new_key: str) -> Any:
    doc = copy.deepcopy(doc)
    if not path:
        return value if action == "replace" else doc
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "remove":
        del parent[last]
    elif isinstance(parent, dict):
        parent[new_key] = value
    else:
        parent.insert(last, value)
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=st.sampled_from(CASES),
    pick=st.integers(min_value=0, max_value=10_000),
    action=st.sampled_from(["replace", "remove", "add"]),
    value=values,
    new_key=st.sampled_from(
        ["extra", "maxlenght", "type", "value", "threshold", "schema", "$ref", "items", "code", "params"]
    ),
)
def test_fast_pass_implies_reference_pass(
    case: tuple[str, int], pick: int, action: str, value: Any, new_key: str
) -> None:
    name, index = case
    seed = SEEDS[name][index]
    locations = _locations(seed)
    doc = _mutate(seed, locations[pick % len(locations)], action, value, new_key)
    if schemacheck._fast_pass(doc, name):
        assert list(schemacheck.validator(name).iter_errors(doc)) == [], (name, doc)


def test_seeds_pass_both_validators() -> None:
    for name, docs in SEEDS.items():
        assert docs, name
        for doc in docs:
            assert schemacheck._fast_pass(doc, name), name
            assert schemacheck.errors(doc, name) == []


def test_fast_schemas_are_shipped() -> None:
    assert set(schemacheck.schema_names()) >= schemacheck.FAST_SCHEMAS
