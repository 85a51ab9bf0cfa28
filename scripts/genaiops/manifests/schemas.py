"""Generate kubeconform's JSON Schemas from the pinned Go modules, offline, into a cache folder.

Layout: ``<cache>/<pin.key>/<group>/<kind>_<version>.json`` (kind lower-cased; the core group is
named ``v1`` as kubeconform's ``{{ .Group }}`` renders it), searched with one
``-schema-location`` per pin. Every schema is *strict*: objects that list their properties reject
any other property (``additionalProperties: false``) unless the upstream schema says the object
preserves unknown fields, which is how a misspelt field is caught. Each schema file is standalone:
it carries the closure of the definitions it references.

Sources: the Kubernetes OpenAPI v2 document (``swagger.json``), CustomResourceDefinitions (their
``openAPIV3Schema``; a bare ``metadata: {type: object}`` is replaced by Kubernetes' ObjectMeta so
metadata typos are caught too) and Argo Events' published JSON Schema. A folder is written to a
temporary name and renamed when complete, so an interrupted run never leaves a half cache.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from genaiops.errors import InfraError, UsageError
from genaiops.pins import KUBERNETES, PINS, SchemaPin

GENERATOR_VERSION = "1"
"""Bump when the conversion changes so cached folders are regenerated."""
STAMP = ".complete"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
DRAFT = "http://json-schema.org/draft-07/schema#"
_REF = re.compile(r"^#/definitions/(.+)$")
_GO_TIMEOUT = 900
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "definitions"})
_LITERALS = frozenset({"enum", "const", "default", "example", "required"})

Schema = dict[str, Any]


def default_cache_root(repo: Path) -> Path:
    """``$GENAIOPS_SCHEMA_CACHE`` or ``<repo>/.cache/schemas`` (git-ignored, never committed)."""
    override = os.environ.get("GENAIOPS_SCHEMA_CACHE")
    return Path(override) if override else repo / ".cache" / "schemas"


def module_dir(pin: SchemaPin, go: str = "go") -> Path:
    """The extracted folder of ``pin``'s module, downloaded through the Go module proxy if needed."""
    if shutil.which(go) is None:
        raise UsageError(
            f"`{go}` is not installed; it fetches the pinned schemas from the Go module proxy",
            hint="Install Go >= 1.26 (https://go.dev/dl) or pre-fill the schema cache.",
        )
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": os.environ.get("GOTOOLCHAIN", "local")}
    with tempfile.TemporaryDirectory(prefix="genaiops-gomod-") as scratch:  # outside any go.mod
        try:
            proc = subprocess.run(
                [go, "mod", "download", "-json", pin.spec],
                cwd=scratch,
                env=env,
                capture_output=True,
                text=True,
                timeout=_GO_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise InfraError(f"go mod download {pin.spec} timed out after {_GO_TIMEOUT}s") from None
    try:
        info = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        info = {}
    if proc.returncode != 0 or not info.get("Dir"):
        detail = info.get("Error") or proc.stderr.strip() or f"exit {proc.returncode}"
        raise InfraError(
            f"go mod download {pin.spec} failed: {detail}",
            hint="The Go module proxy (GOPROXY) must be reachable once to fill the module cache.",
        )
    return Path(info["Dir"])


# --- conversion helpers ------------------------------------------------------------------------


def _refs(node: Any) -> Iterator[str]:
    """Names of every definition ``node`` references directly."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and (match := _REF.match(ref)):
            yield match.group(1)
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def closure(definitions: dict[str, Schema], roots: Iterable[str]) -> dict[str, Schema]:
    """The definitions reachable from ``roots`` (themselves included)."""
    seen: dict[str, Schema] = {}
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen or name not in definitions:
            continue
        seen[name] = definitions[name]
        stack.extend(_refs(definitions[name]))
    return seen


def strictify(node: Any) -> Any:
    """Return a strict copy of a schema node (see the module docstring for the rules)."""
    if isinstance(node, list):
        return [strictify(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: Schema = {}
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):  # name -> schema maps: names are data
            out[key] = {name: strictify(item) for name, item in value.items()}
        elif key in _LITERALS:
            out[key] = value
        else:
            out[key] = strictify(value)
    if out.get("format") == "int-or-string" or out.get("x-kubernetes-int-or-string") is True:
        out.pop("format", None)
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if out.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    preserves = out.get("x-kubernetes-preserve-unknown-fields") is True
    embedded = out.get("x-kubernetes-embedded-resource") is True
    if "properties" in out and "additionalProperties" not in out and not preserves and not embedded:
        out["additionalProperties"] = False
    return out


def _standalone(root: Schema, definitions: dict[str, Schema]) -> Schema:
    """``root`` plus the strict closure of the definitions it references, as one JSON Schema."""
    needed = closure(definitions, _refs(root))
    schema: Schema = {"$schema": DRAFT, **root}
    if needed:
        schema["definitions"] = {name: definitions[name] for name in sorted(needed)}
    return schema


def _file_key(group: str, version: str, kind: str) -> tuple[str, str]:
    """(folder, file name) as kubeconform's schema-location template resolves them."""
    return (group or version, f"{kind.lower()}_{version}.json")


def kubernetes_definitions(swagger: Schema) -> dict[str, Schema]:
    """The strict form of every definition of a Kubernetes OpenAPI v2 document."""
    definitions = {name: strictify(value) for name, value in swagger.get("definitions", {}).items()}
    quantity = "io.k8s.apimachinery.pkg.api.resource.Quantity"
    if quantity in definitions:  # YAML writes `cpu: 1` as a number; the API server accepts it
        definitions[quantity] = {
            "description": "Quantity (string or number)",
            "anyOf": [{"type": "string"}, {"type": "number"}],
        }
    return definitions


def from_swagger(swagger: Schema) -> Iterator[tuple[tuple[str, str], Schema]]:
    """One standalone schema per group/version/kind of a Kubernetes OpenAPI v2 document."""
    definitions = kubernetes_definitions(swagger)
    for name, definition in sorted(definitions.items()):
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            yield (
                _file_key(gvk.get("group", ""), gvk["version"], gvk["kind"]),
                _standalone({"$ref": f"#/definitions/{name}"}, definitions),
            )


def _with_object_meta(schema: Schema, k8s: dict[str, Schema]) -> Schema:
    """Replace a CRD's bare ``metadata: {type: object}`` with Kubernetes' ObjectMeta."""
    props = schema.get("properties")
    if isinstance(props, dict) and OBJECT_META in k8s:
        meta = props.get("metadata")
        if isinstance(meta, dict) and "properties" not in meta:
            props["metadata"] = {"$ref": f"#/definitions/{OBJECT_META}"}
    return schema


def from_crds(documents: Iterable[Any], k8s: dict[str, Schema]) -> Iterator[tuple[tuple[str, str], Schema]]:
    """One standalone schema per served version of each CustomResourceDefinition."""
    for doc in documents:
        if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc.get("spec") or {}
        group, kind = spec.get("group", ""), (spec.get("names") or {}).get("kind", "")
        for version in spec.get("versions") or []:
            raw = (version.get("schema") or {}).get("openAPIV3Schema")
            if not isinstance(raw, dict) or not kind:
                continue
            root = _with_object_meta(strictify(copy.deepcopy(raw)), k8s)
            yield _file_key(group, version["name"], kind), _standalone(root, k8s)


def from_jsonschema(document: Schema) -> Iterator[tuple[tuple[str, str], Schema]]:
    """One standalone schema per group/version/kind found in a JSON Schema's definitions."""
    definitions = {name: strictify(value) for name, value in document.get("definitions", {}).items()}
    for name, definition in sorted(definitions.items()):
        if name.startswith("io.k8s."):
            continue
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            yield (
                _file_key(gvk.get("group", ""), gvk["version"], gvk["kind"]),
                _standalone({"$ref": f"#/definitions/{name}"}, definitions),
            )


# --- the cache ---------------------------------------------------------------------------------


def _load_yaml_files(paths: Iterable[Path]) -> Iterator[Any]:
    for path in paths:
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        for file in files:
            with file.open(encoding="utf-8") as handle:
                yield from yaml.load_all(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _convert(pin: SchemaPin, root: Path, k8s: dict[str, Schema]) -> Iterator[tuple[tuple[str, str], Schema]]:
    paths = [root / p for p in pin.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"{pin.spec} has no {', '.join(missing)}; the pin's paths are wrong")
    if pin.source == "swagger":
        return from_swagger(json.loads(paths[0].read_text(encoding="utf-8")))
    if pin.source == "jsonschema":
        return from_jsonschema(json.loads(paths[0].read_text(encoding="utf-8")))
    return from_crds(_load_yaml_files(paths), k8s)


def write_pin(pin: SchemaPin, target: Path, source_root: Path, k8s: dict[str, Schema]) -> int:
    """Write ``pin``'s schemas under ``target`` (atomically); returns the number of files."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{pin.key}-", dir=target.parent))
    try:
        count = 0
        for (folder, name), schema in _convert(pin, source_root, k8s):
            out = staging / folder / name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(schema, separators=(",", ":"), sort_keys=True), encoding="utf-8")
            count += 1
        if count == 0:
            raise UsageError(f"{pin.spec} yielded no schemas from {', '.join(pin.paths)}")
        (staging / STAMP).write_text(f"{GENERATOR_VERSION} {pin.spec} {count}\n", encoding="utf-8")
        if is_complete(target):  # another process (e.g. a parallel test worker) finished first
            return count
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        try:
            staging.rename(target)
        except OSError:
            if not is_complete(target):
                raise
        return count
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def is_complete(folder: Path) -> bool:
    """True when ``folder`` was fully written by this generator version."""
    stamp = folder / STAMP
    return stamp.is_file() and stamp.read_text(encoding="utf-8").split(" ", 1)[0] == GENERATOR_VERSION


def ensure_schemas(
    cache_root: Path,
    pins: tuple[SchemaPin, ...] = PINS,
    go: str = "go",
    log: Callable[[str], None] | None = None,
) -> list[Path]:
    """Make sure every pin's schema folder exists in ``cache_root``; returns them in search order."""
    folders = [cache_root / pin.key for pin in pins]
    todo = [pin for pin, folder in zip(pins, folders, strict=True) if not is_complete(folder)]
    k8s: dict[str, Schema] = {}
    if any(pin.source == "crds" for pin in todo):
        swagger = module_dir(KUBERNETES, go) / KUBERNETES.paths[0]
        k8s = kubernetes_definitions(json.loads(swagger.read_text(encoding="utf-8")))
    for pin in todo:
        if log is not None:
            log(f"generating schemas for {pin.spec} into {cache_root / pin.key}")
        count = write_pin(pin, cache_root / pin.key, module_dir(pin, go), k8s)
        if log is not None:
            log(f"  {count} schema files")
    return folders


def schema_locations(folders: Iterable[Path]) -> list[str]:
    """kubeconform ``-schema-location`` templates for the given pin folders."""
    return [
        f"{folder}/{{{{ .Group }}}}/{{{{ .ResourceKind }}}}_{{{{ .ResourceAPIVersion }}}}.json"
        for folder in folders
    ]
