"""The guardrail policy engine: compile a policy's CEL rules once, then judge inputs.

Semantics (docs/artifacts/guardrails.md):

* An input longer than ``max_input_chars`` is truncated; conditions see ``truncated == true``.
* Conditions are CEL over the variables ``input`` (the text as given), ``normalized`` (NFKC,
  case-folded, invisible characters removed, homoglyphs folded), ``input_length`` (characters
  before truncation) and ``truncated``, and over detector/registry function calls.
* Rules are evaluated in dependency order. A rule *matches* when every rule in ``requires``
  matched, no rule in ``unless`` matched, and its condition is true.
* The matched rule with the highest priority decides the verdict and code; with no match the
  policy's ``default_action`` (and ``default_code``) applies.
* Fail closed: a condition that errors at run time counts as matched for BLOCK/FLAG rules and as
  not matched for ALLOW rules, and the error is reported in the decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from genaiops.guardrails import celrt as cel
from genaiops.guardrails import functions
from genaiops.guardrails.normalize import normalize

ACTIONS = ("ALLOW", "FLAG", "BLOCK")
VARIABLES = ("input", "normalized", "input_length", "truncated")
HARD_MAX_INPUT_CHARS = 1_000_000


class PolicyError(ValueError):
    """The policy cannot be loaded into the engine; ``problems`` lists (json path, message)."""

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
        super().__init__("; ".join(m for _, m in problems[:3]))
        self.problems = problems


@dataclass(frozen=True)
class Rule:
    """One rule of a policy."""

    id: str
    condition: str
    action: str
    priority: int
    code: str | None = None
    description: str = ""
    requires: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    index: int = 0


@dataclass(frozen=True)
class DetectorSpec:
    """A named configuration of a registry function."""

    name: str
    function: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Policy:
    """A parsed policy (structure only; ``CompiledPolicy`` adds CEL programs and detectors)."""

    id: str
    rules: tuple[Rule, ...]
    detectors: dict[str, DetectorSpec]
    default_action: str = "ALLOW"
    default_code: str | None = None
    max_input_chars: int = 20000
    applies_to: str = "input"

    @classmethod
    def from_data(cls, data: Any) -> Policy:
        """Build from the manifest's data; raises PolicyError if it breaks the schema."""
        from genaiops import schemacheck

        problems = [
            (e.path, f"{e.json_path}: {e.message}") for e in schemacheck.errors(data, "guardrail-policy")
        ]
        if problems:
            raise PolicyError(problems)
        rules = tuple(
            Rule(
                id=r["id"],
                condition=r["condition"],
                action=r["action"],
                priority=r["priority"],
                code=r.get("code"),
                description=r.get("description", ""),
                requires=tuple(r.get("requires", [])),
                unless=tuple(r.get("unless", [])),
                index=i,
            )
            for i, r in enumerate(data["rules"])
        )
        detectors = {
            name: DetectorSpec(name, spec.get("function", name), dict(spec.get("params") or {}))
            for name, spec in (data.get("detectors") or {}).items()
        }
        return cls(
            id=data["id"],
            rules=rules,
            detectors=detectors,
            default_action=data.get("default_action", "ALLOW"),
            default_code=data.get("default_code"),
            max_input_chars=data.get("max_input_chars", 20000),
            applies_to=data.get("applies_to", "input"),
        )

    @property
    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}


@dataclass
class Decision:
    """The engine's judgement of one input."""

    verdict: str
    code: str | None
    rule: str | None
    matched: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    truncated: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "code": self.code,
            "rule": self.rule,
            "matched": self.matched,
            "violations": self.violations,
            "truncated": self.truncated,
            "errors": self.errors,
        }


def callable_names(policy: Policy) -> set[str]:
    """Function names a condition may call: the policy's detectors and every registry function."""
    return set(policy.detectors) | set(functions.REGISTRY)


def build_detectors(policy: Policy) -> dict[str, functions.Detector]:
    """Configured detectors by callable name; raises PolicyError for unknown functions or bad params."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    built: dict[str, functions.Detector] = {}
    for name, spec in policy.detectors.items():
        registered = functions.get(spec.function)
        if registered is None:
            problems.append(
                (
                    ("detectors", name, "function"),
                    f"detector {name!r} uses unknown function {spec.function!r}",
                )
            )
            continue
        errors = registered.param_errors(spec.params)
        problems += [
            (("detectors", name, "params", *path), f"detector {name!r}: {msg}") for path, msg in errors
        ]
        if not errors:
            built[name] = registered.build(spec.params)
    for name, registered in functions.REGISTRY.items():
        if name not in built and name not in policy.detectors and not registered.param_errors({}):
            built[name] = registered.build({})
    if problems:
        raise PolicyError(problems)
    return built


def dependency_order(policy: Policy) -> list[Rule]:
    """Rules so that each comes after those it references; raises PolicyError on cycles or dangling refs."""
    by_id = policy.by_id
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for rule in policy.rules:
        for ref in (*rule.requires, *rule.unless):
            if ref not in by_id:
                problems.append((("rules", rule.index), f"rule {rule.id!r} references unknown rule {ref!r}"))
    if problems:
        raise PolicyError(problems)
    order: list[Rule] = []
    state: dict[str, int] = {}

    def visit(rule: Rule, trail: list[str]) -> None:
        if state.get(rule.id) == 2:
            return
        if state.get(rule.id) == 1:
            cycle = [*trail[trail.index(rule.id) :], rule.id]
            raise PolicyError([(("rules", rule.index), "circular rule references: " + " -> ".join(cycle))])
        state[rule.id] = 1
        for ref in (*rule.requires, *rule.unless):
            visit(by_id[ref], [*trail, rule.id])
        state[rule.id] = 2
        order.append(rule)

    for rule in policy.rules:
        visit(rule, [])
    return order


class CompiledPolicy:
    """A policy with compiled CEL programs and configured detectors, ready to judge inputs."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        problems: list[tuple[tuple[str | int, ...], str]] = []
        self.programs: dict[str, Any] = {}
        for rule in policy.rules:
            try:
                self.programs[rule.id] = cel.compile(rule.condition)
            except (ValueError, RuntimeError) as exc:
                problems.append(
                    (
                        ("rules", rule.index, "condition"),
                        f"rule {rule.id!r}: condition does not compile: {first_line(exc)}",
                    )
                )
        if problems:
            raise PolicyError(problems)
        self.detectors = build_detectors(policy)
        self.order = dependency_order(policy)
        self.max_chars = min(policy.max_input_chars, HARD_MAX_INPUT_CHARS)

    def _functions(self) -> dict[str, Callable[[Any], dict[str, Any]]]:
        cache: dict[tuple[str, str], dict[str, Any]] = {}

        def make(name: str, detector: functions.Detector) -> Callable[[Any], dict[str, Any]]:
            def call(value: Any) -> dict[str, Any]:
                text = value if isinstance(value, str) else str(value)
                text = text[: self.max_chars]
                key = (name, text)
                if key not in cache:
                    cache[key] = detector(text)
                return cache[key]

            return call

        return {name: make(name, detector) for name, detector in self.detectors.items()}

    def evaluate(self, text: str) -> Decision:
        """Judge one input (see the module doc for the semantics)."""
        truncated = len(text) > self.max_chars
        shown = text[: self.max_chars]
        context = cel.Context(
            variables={
                "input": shown,
                "normalized": normalize(shown),
                "input_length": len(text),
                "truncated": truncated,
            },
            functions=self._functions(),
        )
        matched: dict[str, bool] = {}
        errors: dict[str, str] = {}
        for rule in self.order:
            ok = all(matched[r] for r in rule.requires) and not any(matched[r] for r in rule.unless)
            if ok:
                try:
                    value = self.programs[rule.id].execute(context)
                    if not isinstance(value, bool):
                        raise TypeError(f"condition returned {type(value).__name__}, not bool")
                    ok = value
                except Exception as exc:  # CEL raises RuntimeError/TypeError/KeyError: fail closed
                    errors[rule.id] = first_line(exc)
                    ok = rule.action != "ALLOW"
            matched[rule.id] = ok
        hits = sorted((r for r in self.policy.rules if matched[r.id]), key=lambda r: (-r.priority, r.index))
        if hits:
            top = hits[0]
            verdict, code, rule_id = top.action, top.code, top.id
        else:
            verdict, code, rule_id = self.policy.default_action, self.policy.default_code, None
        return Decision(
            verdict=verdict,
            code=code if verdict != "ALLOW" else None,
            rule=rule_id,
            matched=[r.id for r in hits],
            violations=[r.code for r in hits if r.action != "ALLOW" and r.code],
            truncated=truncated,
            errors=errors,
        )


def first_line(exc: BaseException) -> str:
    """An exception's message, first line only, bounded (CEL messages can be long)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def compile_policy(data: Any) -> CompiledPolicy:
    """Parse and compile policy data; raises PolicyError listing what is wrong."""
    return CompiledPolicy(Policy.from_data(data))
