"""The merge-request description for a promotion that needs approval (Markdown, with the scorecard)."""

from __future__ import annotations

import json
from typing import Any

from genaiops.lineage import LineageEntry
from genaiops.promote.gate import Bound, scorecard_metrics
from genaiops.promote.snapshot import Snapshot, configmap_name, env_artifact_dir
from genaiops.scorecard import Scorecard

MAX_CHARS = 60_000
"""GitHub and GitLab cap descriptions at 65,536 / 1,048,576 characters; stay under the smaller."""


def approval_branch(env: str, kind: str, artifact_id: str, version: str) -> str:
    """``promote/<env>/<kind>-<id>-<version>`` (a valid ref name: no '+', spaces or '..')."""
    safe_version = "".join(c if c.isalnum() or c in "-." else "_" for c in version).replace("..", "._")
    return f"promote/{env}/{kind}-{artifact_id}-{safe_version}"


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
        "| | |",
        "|---|---|",
        f"| artifact | `{name}` |",
        f"| version | `{snapshot.version}` |",
        f"| digest | `{snapshot.digest}` |",
        f"| source commit | `{entry.source_commit or 'unknown'}` |",
        f"| workflow | `{entry.workflow or 'n/a'}` |",
        f"| pipeline image | `{entry.pipeline_image_digest or 'unknown'}` |",
        f"| eval dataset digest | `{entry.eval_dataset_digest or 'unknown'}` |",
        f"| snapshot | `{env_artifact_dir(env, snapshot.kind, snapshot.id)}/` "
        f"(tree `{entry.snapshot_tree}`) |",
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


def _eval_markdown(scorecard: dict[str, Any], budget: int) -> str | None:
    """The eval stage's own rendering of its scorecard (None when it is not a genaiops scorecard)."""
    if budget <= 1000:
        return None
    try:
        card = Scorecard.from_json(scorecard)
    except (KeyError, ValueError, TypeError):
        return None
    return card.to_markdown(max_chars=budget)
