"""A small, strict re-implementation of the Argo Events features our Sensors use, for offline tests.

It follows argo-events v1.9 `pkg/sensors/dependencies/filter.go` for the subset we rely on:
- data filters of type string: the gjson path's text (raw JSON for arrays) is matched with an unanchored
  regular expression per value; `dataLogicalOperator` and/or; a missing path fails the filter;
- expr filters of the form `name == "literal"` / `name != "literal"` joined by `&&` or `||`;
- data filters and expr filters are combined with AND (the default filtersLogicalOperator);
- trigger `conditions` over dependency names with `&&` / `||`;
- trigger parameters from `dataKey` (gjson path) or the three `dataTemplate` shapes we use (a path, a path
  with `trimPrefix`, and `{{ with PATH }}{{ .FIELD }}{{ end }}`, empty when PATH is missing or null).
Anything else raises `Unsupported`, so a Sensor that grows a feature this simulator does not model makes
the tests fail loudly instead of passing by accident.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

from tests.platform.platform_policy import Doc, SensorTrigger, sensor_triggers


class Unsupported(Exception):
    """The Sensor uses a feature the simulator does not model."""


_MISSING = object()


def gjson_get(data: Any, path: str) -> Any:
    """Resolve the gjson subset we use: dotted keys and `#` to map over an array."""
    parts = path.split(".")
    current: Any = data
    for index, part in enumerate(parts):
        if part == "#":
            if not isinstance(current, list):
                return _MISSING
            rest = ".".join(parts[index + 1 :])
            if not rest:
                return len(current)
            values = [gjson_get(item, rest) for item in current]
            return [v for v in values if v is not _MISSING]
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def gjson_string(value: Any) -> str:
    """gjson Result.String(): strings unquoted, everything else as JSON text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"))


def _data_filter(flt: Doc, event: Any) -> bool:
    if (
        flt.get("type", "string") != "string"
        or flt.get("template")
        or flt.get("comparator", "=") not in ("=", "")
    ):
        raise Unsupported(f"data filter {flt}")
    value = gjson_get(event, flt["path"])
    if value is _MISSING:
        return False
    text = gjson_string(value)
    return any(re.search(pattern, text) for pattern in flt.get("value") or [])


_COMPARISON = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=)\s*"([^"]*)"\s*$')


def _expr_filter(flt: Doc, event: Any) -> bool:
    fields = {f["name"]: gjson_get(event, f["path"]) for f in flt.get("fields") or []}

    def term(text: str) -> bool:
        match = _COMPARISON.match(text)
        if not match:
            raise Unsupported(f"expression term {text!r}")
        name, op, literal = match.groups()
        if name not in fields:
            raise Unsupported(f"expression uses undeclared field {name!r}")
        actual = fields[name]
        equal = actual is not _MISSING and gjson_string(actual) == literal
        return equal if op == "==" else not equal

    return any(all(term(t) for t in alt.split("&&")) for alt in flt["expr"].split("||"))


def dependency_matches(dependency: Doc, event: Any) -> bool:
    filters = dependency.get("filters") or {}
    unknown = set(filters) - {"data", "exprs", "dataLogicalOperator", "exprLogicalOperator"}
    if unknown:
        raise Unsupported(f"filters {sorted(unknown)}")
    data = filters.get("data") or []
    exprs = filters.get("exprs") or []
    data_or = filters.get("dataLogicalOperator", "and") == "or"
    expr_or = filters.get("exprLogicalOperator", "and") == "or"
    data_ok = True if not data else (any if data_or else all)(_data_filter(f, event) for f in data)
    expr_ok = True if not exprs else (any if expr_or else all)(_expr_filter(f, event) for f in exprs)
    return data_ok and expr_ok


def _conditions_hold(conditions: str, matched: set[str]) -> bool:
    if not re.fullmatch(r"[A-Za-z0-9_\-\s|&()]+", conditions) or "(" in conditions:
        raise Unsupported(f"conditions {conditions!r}")
    return any(all(name.strip() in matched for name in alt.split("&&")) for alt in conditions.split("||"))


_TEMPLATE = re.compile(r'^\{\{\s*\.Input\.([\w.\-#]+)\s*(?:\|\s*trimPrefix\s+"([^"]*)"\s*)?\}\}$')
_WITH = re.compile(r"^\{\{\s*with\s+\.Input\.([\w.\-]+)\s*\}\}\{\{\s*\.(\w+)\s*\}\}\{\{\s*end\s*\}\}$")


def _resolve_source(src: Doc, event: Any) -> Any:
    if "dataKey" in src:
        value = gjson_get(event, src["dataKey"])
        if value is _MISSING:
            raise KeyError(f"dataKey {src['dataKey']!r} missing from the event")
        return gjson_string(value)
    if "dataTemplate" in src and (scoped := _WITH.match(src["dataTemplate"])):
        outer = gjson_get(event, scoped.group(1))
        if outer is _MISSING or not isinstance(outer, dict) or outer.get(scoped.group(2)) is None:
            return ""
        return gjson_string(outer[scoped.group(2)])
    if "dataTemplate" in src:
        match = _TEMPLATE.match(src["dataTemplate"])
        if not match:
            raise Unsupported(f"dataTemplate {src['dataTemplate']!r}")
        value = gjson_get(event, match.group(1))
        if value is _MISSING:
            raise KeyError(f"dataTemplate path {match.group(1)!r} missing from the event")
        text = gjson_string(value)
        return text.removeprefix(match.group(2)) if match.group(2) else text
    raise Unsupported(f"parameter source {src}")


def _set_path(obj: Any, dest: str, value: Any) -> None:
    parts = dest.split(".")
    for part in parts[:-1]:
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    last = parts[-1]
    if isinstance(obj, list):
        obj[int(last)] = value
    else:
        obj[last] = value


@dataclass
class Fired:
    """A trigger that fired, with the Workflow it would create."""

    trigger: SensorTrigger
    workflow: Doc

    @property
    def parameters(self) -> dict[str, str]:
        params = self.workflow["spec"]["arguments"]["parameters"]
        return {p["name"]: p.get("value") for p in params}


def fire(sensors: list[Doc], event: Any) -> list[Fired]:
    """Every trigger the event fires across the given Sensors, with its parameters applied."""
    fired: list[Fired] = []
    for sensor in sensors:
        deps = (sensor.get("spec") or {}).get("dependencies") or []
        matched = {d["name"] for d in deps if dependency_matches(d, event)}
        for trigger in sensor_triggers(sensor):
            if not _conditions_hold(trigger.conditions or " || ".join(d["name"] for d in deps), matched):
                continue
            workflow = copy.deepcopy(trigger.workflow)
            for param in trigger.parameters:
                if param.get("operation") not in (None, "overwrite"):
                    raise Unsupported(f"parameter operation {param.get('operation')!r}")
                _set_path(workflow, param["dest"], _resolve_source(param["src"], event))
            fired.append(Fired(trigger, workflow))
    return fired
