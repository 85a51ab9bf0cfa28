"""The model catalog: which models artifacts may target, their limits, tokenizer and environments.

The catalog is data, ``artifacts/catalog/models.yaml`` (not an artifact kind folder, so routing
ignores it), validated on load against ``schemas/catalog.schema.json``. Adding a model is a data
change. Lint uses it for limits and token counting; validate uses the environment lists.

    catalog = load_catalog(repo)
    entry = catalog.get("gpt-4o")          # ModelEntry | None
    catalog.names(type="embedding")        # sorted names of embedding models
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from genaiops import rules
from genaiops.errors import ArtifactError
from genaiops.safeio import YamlDocument, load_yaml

CATALOG_PATH = "artifacts/catalog/models.yaml"
ModelType = Literal["chat", "embedding"]

CATALOG_INVALID = rules.rule(
    "catalog/invalid",
    "all",
    "The model catalog (artifacts/catalog/models.yaml) is missing, does not parse, breaks its schema "
    "or names a model twice.",
    "Fix artifacts/catalog/models.yaml; its format is in docs/artifacts/catalog.md.",
)


@dataclass(frozen=True)
class ModelEntry:
    """One model of the catalog."""

    name: str
    provider: str
    type: ModelType
    context_window: int
    tokenizer: str
    environments: tuple[str, ...]
    max_output_tokens: int | None = None
    embedding_dimension: int | None = None
    description: str = ""
    deprecated: bool = False

    def available_in(self, environment: str) -> bool:
        """Whether the model is deployed in ``environment``."""
        return environment in self.environments


@dataclass(frozen=True)
class Catalog:
    """The parsed catalog: models by name, plus where it came from (for findings)."""

    models: dict[str, ModelEntry]
    file: str = CATALOG_PATH

    def get(self, name: object) -> ModelEntry | None:
        """The model called ``name``, or None (also for non-string names)."""
        return self.models.get(name) if isinstance(name, str) else None

    def names(self, type: ModelType | None = None) -> list[str]:
        """Sorted model names, optionally only those of one type (chat or embedding)."""
        return sorted(n for n, m in self.models.items() if type is None or m.type == type)

    def __len__(self) -> int:
        return len(self.models)

    def __contains__(self, name: object) -> bool:
        return self.get(name) is not None


_CACHE: dict[tuple[str, int, int], Catalog] = {}


def _invalid(message: str, line: int | None = None) -> ArtifactError:
    return ArtifactError(
        message, hint=rules.RULES[CATALOG_INVALID].hint, rule_id=CATALOG_INVALID, file=CATALOG_PATH, line=line
    )


def parse_catalog(doc: YamlDocument) -> Catalog:
    """Build a Catalog from a parsed document, raising ArtifactError(catalog/invalid) if it is bad."""
    from genaiops import schemacheck  # jsonschema is only needed when a catalog is really loaded

    problems = schemacheck.errors(doc.data, "catalog")
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise _invalid(f"{doc.file}: {first.json_path}: {first.message}{more}", doc.line_of(list(first.path)))
    models: dict[str, ModelEntry] = {}
    for index, raw in enumerate(doc.data["models"]):
        name = raw["name"]
        if name in models:
            raise _invalid(
                f"{doc.file}: model {name!r} is listed twice", doc.line_of(["models", index, "name"])
            )
        models[name] = ModelEntry(
            name=name,
            provider=raw["provider"],
            type=raw["type"],
            context_window=raw["context_window"],
            tokenizer=raw["tokenizer"],
            environments=tuple(raw["environments"]),
            max_output_tokens=raw.get("max_output_tokens"),
            embedding_dimension=raw.get("embedding_dimension"),
            description=raw.get("description", ""),
            deprecated=bool(raw.get("deprecated", False)),
        )
    return Catalog(models=models, file=doc.file)


def load_catalog(repo: Path) -> Catalog:
    """The catalog of the repository at ``repo`` (cached while the file is unchanged).

    Raises ArtifactError with rule ``catalog/invalid`` when the file is missing or invalid;
    the stage runner turns that into a finding on the artifact being checked.
    """
    path = repo / CATALOG_PATH
    try:
        stat = path.stat()
    except OSError:
        raise _invalid(f"{CATALOG_PATH} is missing: artifacts name their models from it") from None
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    try:
        doc = load_yaml(path, repo)
    except ArtifactError as exc:
        raise _invalid(f"{CATALOG_PATH}: {exc.message}", exc.line) from None
    catalog = parse_catalog(doc)
    _CACHE.clear()  # one repository per process in practice; never grow without bound
    _CACHE[key] = catalog
    return catalog
