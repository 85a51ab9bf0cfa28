"""The merge-request description for a promotion or retirement that needs approval (Markdown).

A promotion's description carries the gate's reports and the scorecard; a retirement's says what
leaves the environment and which checks still applied (there is nothing to evaluate).
"""

from __future__ import annotations

import json
from typing import Any

from genaiops.lineage import LineageEntry
from genaiops.promote.gate import Bound, scorecard_metrics
from genaiops.promote.snapshot import Snapshot, configmap_name, env_artifact_dir

MAX_CHARS = 60_000
"""GitHub and GitLab cap descriptions at 65,536 / 1,048,576 characters; stay under the smaller."""


def approval_branch(env: str, kind: str, artifact_id: str, version: str, action: str = "promote") -> str:
    """``<action>/<env>/<kind>-<id>-<version>`` (a valid ref name: no '+', spaces or '..')."""
    safe_version = "".join(c if c.isalnum() or c in "-." else "_" for c in version).replace("..", "._")
    return f"{action}/{env}/{kind}-{artifact_id}-{safe_version}"


def request_name(action: str, env: str, kind: str, artifact_id: str) -> str:
    """The description's file name: ``<action>-request-<env>-<kind>-<id>.md``."""
    return f"{action}-request-{env}-{kind}-{artifact_id}.md"


def _facts(rows: list[tuple[str, str]]) -> list[str]:
    """A two-column Markdown table of ``(label, value)`` rows."""
    return ["| | |", "|---|---|", *(f"| {label} | {value} |" for label, value in rows)]


def _provenance(entry: LineageEntry) -> list[tuple[str, str]]:
    """The rows every description has: where the change comes from."""
    return [
        ("source commit", f"`{entry.source_commit or 'unknown'}`"),
        ("workflow", f"`{entry.workflow or 'n/a'}`"),
        ("pipeline image", f"`{entry.pipeline_image_digest or 'unknown'}`"),
    ]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return "`" + json.dumps(value, sort_keys=True)[:80] + "`"
    return str(value).replace("|", "\\|").replace("\n", " ")


def scorecard_table(scorecard: dict[str, Any] | None, thresholds: dict[str, Bound]) -> list[str]:
    """A Markdown table of the scorecard's metrics with the environment's thresholds."""
    if not scorecard:
        return ["_No scorecard._"]
    metrics = scorecard_metrics(scorecard)
    lines = [
        "| metric | value | baseline | delta | CI | threshold | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, item in sorted(metrics.items()):
        bound = thresholds.get(name)
        limit = (
            ""
            if bound is None
            else " ".join(
                part
                for part in (
                    f">= {bound.min:g}" if bound.min is not None else "",
                    f"<= {bound.max:g}" if bound.max is not None else "",
                )
                if part
            )
        )
        ci = item.get("ci") if item.get("ci") is not None else item.get("interval")
        lines.append(
            f"| {_cell(name)} | {_cell(item.get('value'))} | {_cell(item.get('baseline'))} | "
            f"{_cell(item.get('delta'))} | {_cell(ci)} | {limit} | {_cell(item.get('verdict'))} |"
        )
    if not metrics:
        lines.append("| _(the scorecard lists no metrics)_ |  |  |  |  |  |  |")
    return lines


def render_request(
    env: str,
    snapshot: Snapshot,
    entry: LineageEntry,
    branch: str,
    target_branch: str,
    thresholds: dict[str, Bound],
    reports: dict[str, str],
) -> str:
    """The description a reviewer reads before merging the promotion branch."""
    name = f"{snapshot.kind}/{snapshot.id}"
    lines = [
        f"# Promote {name} {snapshot.version} to {env}",
        "",
        f"Merging `{branch}` into `{target_branch}` deploys this version to **{env}**: Argo CD syncs the "
        f"environment and the serving layer loads ConfigMap "
        f"`{configmap_name(snapshot.kind, snapshot.id)}-<hash>`.",
        "",
        *_facts(
            [
                ("artifact", f"`{name}`"),
                ("version", f"`{snapshot.version}`"),
                ("digest", f"`{snapshot.digest}`"),
                *_provenance(entry),
                ("eval dataset digest", f"`{entry.eval_dataset_digest or 'unknown'}`"),
                (
                    "snapshot",
                    f"`{env_artifact_dir(env, snapshot.kind, snapshot.id)}/` (tree `{entry.snapshot_tree}`)",
                ),
            ]
        ),
        "",
        "## Gate",
        "",
        "The automated gate passed: "
        + ", ".join(f"{stage} (`{path}`)" for stage, path in sorted(reports.items()))
        + ", for exactly this digest.",
        "",
        "## Scorecard",
        "",
        *scorecard_table(entry.scorecard, thresholds),
        "",
        "## Approve",
        "",
        f"Review the diff, then merge into `{target_branch}` "
        "(fast-forward or merge commit; never force-push).",
        f"Roll back later with `genaiops rollback --env {env} {name}`.",
        "",
    ]
    text = "\n".join(lines)
    if entry.scorecard:
        budget = MAX_CHARS - len(text) - 200
        rendered = _eval_markdown(entry.scorecard, budget)
        if rendered is None:
            full = json.dumps(entry.scorecard, indent=2, sort_keys=True)
            rendered = "\n".join(["```json", full, "```"]) if len(full) < budget else None
        if rendered is None:
            text += "_The full scorecard is in the eval report._\n"
        else:
            folded = ["", "<details><summary>Full scorecard</summary>", "", rendered, "", "</details>", ""]
            text += "\n".join(folded)
    return text


def render_retirement_request(
    env: str, kind: str, artifact_id: str, entry: LineageEntry, branch: str, target_branch: str
) -> str:
    """The description a reviewer reads before merging a retirement branch (``entry``: the retire entry)."""
    name = f"{kind}/{artifact_id}"
    folder = env_artifact_dir(env, kind, artifact_id)
    lines = [
        f"# Retire {name} {entry.version} from {env}",
        "",
        f"The artifact's folder was deleted from the source repository. Merging `{branch}` into "
        f"`{target_branch}` removes it from **{env}**: the configMapGenerator entry "
        f"`{configmap_name(kind, artifact_id)}` and `{folder}/` go, Argo CD prunes the ConfigMap (per its "
        "sync policy), and the lineage records the retirement and keeps the history.",
        "",
        *_facts(
            [
                ("artifact", f"`{name}`"),
                ("retired version", f"`{entry.version}`"),
                ("digest", f"`{entry.digest}`"),
                *_provenance(entry),
                ("retired snapshot", f"`{folder}/` (tree `{entry.snapshot_tree}`, kept in git history)"),
            ]
        ),
        "",
        "## Checks",
        "",
        f"- The artifact's folder no longer exists in the source repository "
        f"(at `{entry.source_commit or 'HEAD'}`).",
        f"- No serving workload of {env} names it as active (`GENAIOPS_SERVE_*`, `--prompt`, `--guardrail`, "
        "`--model-config`).",
        "- There is nothing to evaluate: no lint, validate or eval report is needed.",
        "",
        "## Approve",
        "",
        f"Review the diff, then merge into `{target_branch}` "
        "(fast-forward or merge commit; never force-push).",
        f"To serve it again later, restore the folder from git history and promote it to {env}.",
        "",
    ]
    return "\n".join(lines)


def _eval_markdown(scorecard: dict[str, Any], budget: int) -> str | None:
    """The eval stage's own rendering of its scorecard (None when it is not a genaiops scorecard)."""
    if budget <= 1000:
        return None
    from genaiops.scorecard import Scorecard  # numpy (the comparisons): only for a merge request

    try:
        card = Scorecard.from_json(scorecard)
    except (KeyError, ValueError, TypeError):
        return None
    return card.to_markdown(max_chars=budget)
