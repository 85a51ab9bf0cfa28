"""Worst-case (maximum-length) template values from a variables JSON Schema and fixture values.

The prompt length check renders the template with these values: every string as long as its
``maxLength`` allows, every array with ``maxItems`` items. The text is the longest fixture value
seen for that variable (test case vars, eval dataset vars) repeated up to the maximum length, so
the token count reflects realistic text rather than one repeated letter (which BPE compresses).
Without a fixture a plain English filler is used. A global character budget bounds the work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

FILLER = (
    "The customer reports that the order arrived late, the packaging was damaged and support "
    "did not answer for three days; they ask for a refund or a replacement before Friday. "
)
MAX_STRING = 1_000_000
MAX_ITEMS = 1_000
MAX_TOTAL_CHARS = 8_000_000


@dataclass
class Budget:
    """Characters still allowed; ``exhausted`` records that values were cut short."""

    remaining: int = MAX_TOTAL_CHARS
    exhausted: bool = False

    def take(self, wanted: int) -> int:
        granted = max(0, min(wanted, self.remaining))
        if granted < wanted:
            self.exhausted = True
        self.remaining -= granted
        return granted


def _longest(values: Iterable[Any]) -> Any:
    best: Any = None
    best_len = -1
    for value in values:
        size = len(value) if isinstance(value, (str, list, dict)) else len(str(value))
        if size > best_len:
            best, best_len = value, size
    return best


def _stretch(seed: str, length: int) -> str:
    if not seed:
        seed = FILLER
    repeats = -(-length // len(seed))
    return (seed * repeats)[:length]


def _type(schema: Mapping[str, Any], samples: list[Any]) -> str | None:
    declared = schema.get("type")
    if isinstance(declared, str):
        return declared
    if isinstance(declared, list):
        for candidate in ("string", "array", "object", "number", "integer", "boolean"):
            if candidate in declared:
                return candidate
    if isinstance(schema.get("enum"), list):
        return "enum"
    if samples:
        sample = samples[0]
        return {str: "string", list: "array", dict: "object", bool: "boolean"}.get(type(sample), "number")
    return None


def _int(schema: Mapping[str, Any], key: str, cap: int) -> int | None:
    value = schema.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return min(value, cap)
    return None


def worst_value(schema: Any, samples: list[Any], budget: Budget) -> Any:
    """The largest value ``schema`` admits, built from ``samples`` (fixture values) where possible."""
    if not isinstance(schema, Mapping):
        schema = {}
    kind = _type(schema, samples)
    if kind == "enum":
        return _longest(schema["enum"])
    if kind == "string":
        seed = _longest([s for s in samples if isinstance(s, str)]) or ""
        limit = _int(schema, "maxLength", MAX_STRING)
        length = limit if limit is not None else len(seed)
        return _stretch(seed, budget.take(length)) if length else ""
    if kind == "array":
        arrays = [s for s in samples if isinstance(s, list)]
        limit = _int(schema, "maxItems", MAX_ITEMS)
        count = limit if limit is not None else max((len(a) for a in arrays), default=0)
        item_samples = [item for a in arrays for item in a]
        items: list[Any] = []
        for _ in range(count):
            if budget.remaining <= 0:
                budget.exhausted = True
                break
            items.append(worst_value(schema.get("items"), item_samples, budget))
        return items
    if kind == "object":
        objects = [s for s in samples if isinstance(s, dict)]
        props = schema.get("properties") if isinstance(schema.get("properties"), Mapping) else {}
        names = list(props) + [k for o in objects for k in o if k not in props]
        return {
            name: worst_value(props.get(name), [o[name] for o in objects if name in o], budget)
            for name in dict.fromkeys(names)
        }
    if kind == "boolean":
        return True
    if kind in ("number", "integer"):
        numbers = [s for s in samples if isinstance(s, (int, float)) and not isinstance(s, bool)]
        bound = schema.get("maximum")
        candidates = [*numbers, *([bound] if isinstance(bound, (int, float)) else [])]
        return max(candidates, key=lambda n: len(str(n))) if candidates else 0
    return _longest(samples) if samples else ""


def worst_context(
    variables: Mapping[str, Any], fixtures: list[Mapping[str, Any]]
) -> tuple[dict[str, Any], bool]:
    """Worst-case values for every declared variable; also whether the budget cut any value short."""
    budget = Budget()
    context = {
        name: worst_value(schema, [f[name] for f in fixtures if name in f], budget)
        for name, schema in variables.items()
    }
    return context, budget.exhausted


def unbounded(variables: Mapping[str, Any]) -> list[str]:
    """Paths of strings without maxLength and arrays without maxItems (their size is unknown)."""
    found: list[str] = []

    def visit(schema: Any, path: str) -> None:
        if not isinstance(schema, Mapping):
            return
        kind = schema.get("type")
        kinds = set(kind) if isinstance(kind, list) else {kind}
        if "string" in kinds and "enum" not in schema and "const" not in schema:
            limit = _int(schema, "maxLength", MAX_STRING + 1)
            if limit is None:
                found.append(f"{path} (string without maxLength)")
            elif limit > MAX_STRING:
                found.append(f"{path} (maxLength above {MAX_STRING:,})")
        if "array" in kinds:
            limit = _int(schema, "maxItems", MAX_ITEMS + 1)
            if limit is None:
                found.append(f"{path} (array without maxItems)")
            elif limit > MAX_ITEMS:
                found.append(f"{path} (maxItems above {MAX_ITEMS:,})")
            visit(schema.get("items"), f"{path}[]")
        props = schema.get("properties")
        if isinstance(props, Mapping):
            for name, sub in props.items():
                visit(sub, f"{path}.{name}")

    for name, schema in variables.items():
        visit(schema, str(name))
    return found
