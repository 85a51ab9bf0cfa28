"""`copier update` from an older template tag keeps a team's local changes and brings the template's.

A throwaway copy of the template (its working tree, like `copier copy -r HEAD` sees it) is committed and
tagged v0.1.0; a team repository is rendered from that tag and changed locally; the template then releases
v0.2.0 (a new question with a default, a new rendered file, an edit to a copied file); `copier update` must
apply cleanly, keep the local change and the answers, and touch only what the template changed.
Nothing is tagged or committed in the real repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.template.conftest import (
    check,
    commit_all,
    copier,
    git,
    load_answers,
    render,
    tail,
    template_snapshot,
)

pytestmark = [pytest.mark.template, pytest.mark.xdist_group("template-update")]

ANSWERS = {
    "project_name": "search-genai",
    "team_name": "search",
    "environments": ["dev", "prod"],
    "artifact_kinds": ["rag", "guardrail"],
}
LOCAL_LINE = "> Local note: the search team runs `make check` before every merge.\n"
TEMPLATE_LINE = "Template v0.2.0: `SUPPORT.md` names the support channel.\n"
NEW_QUESTION = """
support_channel:
  type: str
  help: Chat channel where users of this repository ask for help
  default: "#{{ project_name }}-help"
"""


def _release_v020(template: Path) -> None:
    with (template / "copier.yml").open("a", encoding="utf-8") as fh:
        fh.write(NEW_QUESTION)
    (template / "SUPPORT.md.jinja").write_text(
        "# Support\n\nAsk {{ team_name }} in {{ support_channel }}.\n", encoding="utf-8"
    )
    with (template / "docs" / "template.md").open("a", encoding="utf-8") as fh:
        fh.write("\n" + TEMPLATE_LINE)
    commit_all(template, "template v0.2.0: support channel")
    git(template, "tag", "v0.2.0")


def _insert_after_first_line(path: Path, line: str) -> None:
    first, rest = path.read_text(encoding="utf-8").split("\n", 1)
    path.write_text(f"{first}\n{line}{rest}", encoding="utf-8")


def test_update_from_an_older_tag_keeps_local_changes(tmp_path: Path) -> None:
    template = template_snapshot(tmp_path / "template")
    git(template, "tag", "v0.1.0")
    repo = tmp_path / ANSWERS["project_name"]
    render(repo, ANSWERS, src=template, vcs_ref="v0.1.0")
    assert load_answers(repo)["_commit"] == "v0.1.0"
    commit_all(repo, "Render from template v0.1.0")

    # the team's own changes: a copied doc, its settings file, a new file
    _insert_after_first_line(repo / "docs" / "template.md", LOCAL_LINE)
    with (repo / "genaiops.yaml").open("a", encoding="utf-8") as fh:
        fh.write("# local: reviewed by the search team\n")
    (repo / "RUNBOOK.md").write_text("# Runbook\n\nPage the search on-call.\n", encoding="utf-8")
    commit_all(repo, "Local changes")
    before = git(repo, "rev-parse", "HEAD").strip()

    _release_v020(template)
    proc = copier("update", "--trust", "--defaults", "--quiet", cwd=repo)
    assert proc.returncode == 0, f"copier update failed:\n{tail(proc.stdout)}"

    answers = load_answers(repo)
    assert answers["_commit"] == "v0.2.0"
    assert {k: answers[k] for k in ANSWERS} == ANSWERS, "answers must survive the update"
    assert answers["support_channel"] == "#search-genai-help", "a new question takes its default"
    assert (repo / "SUPPORT.md").read_text(
        encoding="utf-8"
    ) == "# Support\n\nAsk search in #search-genai-help.\n"

    doc = (repo / "docs" / "template.md").read_text(encoding="utf-8")
    assert LOCAL_LINE in doc, "the local change was lost"
    assert doc.endswith(TEMPLATE_LINE), "the template's change was not applied"
    assert "# local: reviewed by the search team\n" in (repo / "genaiops.yaml").read_text(encoding="utf-8")
    assert (repo / "RUNBOOK.md").is_file()

    changed = {line[3:] for line in git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()}
    assert changed == {".copier-answers.yml", "SUPPORT.md", "docs/template.md"}, (
        "the update must touch exactly what the template changed (no conflicts, no .rej files)"
    )
    assert "<<<<<<<" not in git(repo, "diff")
    assert not (repo / "artifacts" / "prompts").exists(), "unselected kinds stay out after an update"
    assert git(repo, "rev-parse", "HEAD").strip() == before, "copier leaves committing to the team"
    check(["git", "diff", "--check"], repo)
