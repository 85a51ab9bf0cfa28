"""Runs one stage over a set of artifacts and builds its report; never lets an exception escape."""

from __future__ import annotations

import importlib
import os
import re
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from genaiops import rules, schemacheck
from genaiops.discovery import Artifact, digest
from genaiops.errors import ArtifactError, InfraError, UsageError
from genaiops.exitcodes import ExitCode, combine
from genaiops.project import Project
from genaiops.report import ArtifactResult, Report
from genaiops.safeio import YamlDocument, ensure_inside, load_yaml
from genaiops.stages import parallel
from genaiops.stages.registry import CHECKS

SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)

Check = Callable[[Artifact, ArtifactResult, "StageContext"], None]
SCHEMA_FIRST_STAGES = frozenset({"validate", "eval"})
"""Stages that apply the kind's manifest schema before their own checks (lint applies it as a check)."""
MANIFEST_CACHE = 256
"""Parsed manifests a run keeps (least recently used out first)."""


@dataclass
class StageContext:
    """What a check may need beyond its artifact: the project, options, and shared caches."""

    project: Project
    stage: str
    options: dict[str, Any] = field(default_factory=dict)
    manifests: OrderedDict[tuple[str, str], YamlDocument] = field(default_factory=OrderedDict)

    def manifest(self, artifact: Artifact) -> YamlDocument:
        """The artifact's parsed manifest, from a cache of the MANIFEST_CACHE most recently used ones (a
        model config many prompts name is parsed once; a run over 10,000 artifacts does not keep 10,000
        node trees alive, which made every full garbage collection slower than the last)."""
        cached = self.manifests.get(artifact.key)
        if cached is not None:
            self.manifests.move_to_end(artifact.key)
            return cached
        document = load_yaml(artifact.manifest_path, artifact.repo)
        self.manifests[artifact.key] = document
        if len(self.manifests) > MANIFEST_CACHE:
            self.manifests.popitem(last=False)
        return document


def resolve_check(stage: str, kind: str) -> Check | None:
    """The check function for (stage, kind), or None when the stage is not implemented for it."""
    target = CHECKS.get(stage, {}).get(kind)
    if target is None:
        return None
    module_name, func_name = target.split(":", 1)
    return getattr(importlib.import_module(module_name), func_name)


def unimplemented(stage: str, artifacts: list[Artifact]) -> list[str]:
    """Kinds among ``artifacts`` that ``stage`` has no check for."""
    return sorted({a.kind.name for a in artifacts if stage not in CHECKS or a.kind.name not in CHECKS[stage]})


def _preflight(artifact: Artifact, result: ArtifactResult, ctx: StageContext) -> bool:
    """Kind-independent checks of the manifest; returns whether the kind's check can run."""
    if not artifact.manifest_path.exists() and not artifact.manifest_path.is_symlink():
        result.add(
            rules.MISSING_MANIFEST,
            f"{artifact.relpath} has no {artifact.kind.manifest}",
            file=artifact.relpath,
            hint=f"Every {artifact.kind.name} artifact needs {artifact.kind.manifest} (see docs/artifacts/).",
        )
        return False
    doc = ctx.manifest(artifact)
    if not isinstance(doc.data, dict):
        result.add(rules.MANIFEST_NOT_MAPPING, f"{doc.file} must be a YAML mapping", file=doc.file, line=1)
        return False
    manifest_id = doc.data.get("id")
    if manifest_id != artifact.id:
        result.add(
            rules.ID_MISMATCH,
            f"id {manifest_id!r} does not match the folder name {artifact.id!r}",
            file=doc.file,
            line=doc.line_of(["id"]),
            hint="Rename the folder or fix `id`: the folder name is the artifact's identity.",
        )
    version = doc.data.get("version")
    if isinstance(version, str) and SEMVER.match(version):
        result.version = version
    else:
        result.add(
            rules.BAD_VERSION,
            f"version {version!r} is not a semantic version",
            file=doc.file,
            line=doc.line_of(["version"]),
            hint='Quote it: version: "1.2.0".',
        )
    # Lint reports each violation under the kind's own schema rule; validate and eval refuse to work on
    # a manifest lint would reject (validate must not pass temperature: 5). Promote trusts their reports.
    if ctx.stage in SCHEMA_FIRST_STAGES:
        hint = rules.RULES[rules.MANIFEST_SCHEMA].hint
        if schemacheck.check_document(doc, artifact.kind.schema, result, rules.MANIFEST_SCHEMA, hint=hint):
            return False
    return True


def guarded(result: ArtifactResult, work: Callable[[], None], where: str) -> None:
    """Run ``work`` for ``result``, turning every failure mode into report content (usage errors propagate).

    ``where`` names the artifact in the message of an internal error.
    """
    try:
        work()
    except ArtifactError as exc:
        result.add(exc.rule_id, exc.message, file=exc.file, line=exc.line, hint=exc.hint)
    except InfraError as exc:
        result.infra_error = exc.message + (f" ({exc.hint})" if exc.hint else "")
    except UsageError:
        raise
    except RecursionError:
        result.add(rules.UNREADABLE, "the artifact is nested too deeply to process", file=result.path)
    except Exception as exc:  # a bug in a check must not hide the other artifacts' results
        detail = (
            traceback.format_exc() if os.environ.get("GENAIOPS_DEBUG") else f"{type(exc).__name__}: {exc}"
        )
        result.add(
            rules.INTERNAL,
            f"internal error while checking {where}: {detail}",
            hint=rules.RULES[rules.INTERNAL].hint,
        )


def run_artifact(artifact: Artifact, check: Check, ctx: StageContext) -> ArtifactResult:
    """Apply ``check`` to one artifact, turning every failure mode into report content."""
    result = ArtifactResult(kind=artifact.kind.name, id=artifact.id, path=artifact.relpath)
    started = time.perf_counter()

    def work() -> None:
        ensure_inside(artifact.root, artifact.repo)  # a symlinked artifact folder must not lead out
        result.digest = digest(artifact)
        if _preflight(artifact, result, ctx):
            check(artifact, result, ctx)

    guarded(result, work, artifact.relpath)
    result.timings["totalMs"] = round((time.perf_counter() - started) * 1000, 3)
    return result


def _run_pair(pair: tuple[Artifact, Check], ctx: StageContext) -> ArtifactResult:
    return run_artifact(pair[0], pair[1], ctx)


def run_stage(stage: str, artifacts: list[Artifact], ctx: StageContext, report: Report) -> Report:
    """Run ``stage`` over ``artifacts`` into ``report`` and set its exit code."""
    missing = unimplemented(stage, artifacts)
    if missing:
        raise UsageError(
            f"the {stage} stage is not implemented yet for: {', '.join(missing)}",
            hint="Nothing was checked; this is not a pass.",
        )
    pairs: list[tuple[Artifact, Check]] = []
    for artifact in artifacts:
        check = resolve_check(stage, artifact.kind.name)
        assert check is not None  # guaranteed by unimplemented()
        pairs.append((artifact, check))
    # Checks are imported above, before any fork; results come back in the order of ``artifacts``.
    report.artifacts.extend(parallel.map_forked(_run_pair, pairs, ctx, parallel.jobs_for(stage, len(pairs))))
    report.exit_code = combine([a.exit_code for a in report.artifacts]) if report.artifacts else ExitCode.PASS
    return report
