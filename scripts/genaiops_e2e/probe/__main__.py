"""``python -m genaiops_e2e.probe``: what the chainsaw scenarios do and check from the host.

Changes and submissions (as a push and its Sensor would make them):
- ``change KIND|first WORKFLOW [--artifact ID] [--broken|--serving-bug]``: commit a change to one example
  artifact of KIND on the git server's main branch and submit KIND's CI WorkflowTemplate for it with the
  Sensor's parameters (a GitHub push payload for the commit). ``--broken`` uses a template variable the
  prompt does not declare; ``--serving-bug`` adds a line that fails to render for free-tier customers only.
- ``change-all PREFIX``: the same for every kind the repository ships (workflows ``PREFIX-<kind>``).
- ``delete KIND WORKFLOW [--artifact ID]``: ``git rm -r`` the artifact's folder on main and submit KIND's CI
  for that push (the route's deletions: a retirement).
- ``submit-cd CHANGE WORKFLOW --env ENV [--approval] [--rollback]``: KIND's CD template for CHANGE's commit.
- ``cron NAME WORKFLOW``: one run of a CronWorkflow (as its schedule would start it).
Waiting (on conditions, failing fast with the failed steps when the workflow ends otherwise):
- ``wait WORKFLOW... --phase PHASE --timeout S``; ``wait-node WORKFLOW NODE --phase PHASE``.
Checks:
- ``reports WORKFLOW FILE... [--absent FILE...] [--rule ID]``: in the artifact store under WORKFLOW/ (the
  first FILE, else the lint report, names the rule).
- ``signed WORKFLOW``: the evidence manifest's signature verifies with the run's cosign public key (real
  cosign) and the manifest lists the stored lint, validate and eval reports.
- ``promoted WORKFLOW ENV [--count N]`` / ``not-promoted WORKFLOW``: promotion commits on main.
- ``retired WORKFLOW ENV``: WORKFLOW's one retirement commit took the deleted artifact out of ENV.
- ``ran WORKFLOW --failed NODE --absent NODE...``: which steps ran.
- ``check-ci PREFIX ENV``: reports, signature and promotion for every ``PREFIX-<kind>``.
- ``deployed WORKFLOW ENV STAGE [--recorded]``: the stage's report covers exactly what ENV deploys on main
  (``--recorded``: and WORKFLOW recorded a passing verdict for each in environments/ENV/checks.yaml).
- ``restricted PREFIX...``: every pod of those workflows was admitted under Pod Security ``restricted``.
- ``read-only-token``: the checkout's git token fetches main, and a push with it is refused.
- ``snapshot WORKFLOW ENV --save F | --compare F``: the environment's files of the changed artifact.
- ``approve`` / ``reject WORKFLOW``: resume or stop the approval (the argo CLI).
- ``revert WORKFLOW``: undo WORKFLOW's change on main (after a scenario that pushed a broken artifact).
- ``env-change CHANGE ENV KEY VALUE``: set KEY (dotted) in environments/ENV/settings.yaml on main (a change
  straight to an environment's folder, which no CI checks), recorded as CHANGE.
- ``settings KEY VALUE``: change one key of the instance's genaiops-settings ConfigMap.
A workflow name may say ``{first}`` (the first kind the repository ships) or ``released-by:CI`` (the CD
workflow CI's hand-off step started).
Webhooks: ``webhook [--files N] [--bad-signature]`` (a signed GitHub push touching N paths across all
kinds but the last, posted to the EventSource: one Workflow per touched kind; wrongly signed: 400, none);
``pull-request`` (a branch with a change, "opened" then "synchronize": one pr-ci Workflow each, Succeeded,
and one scorecard comment on the HTTP sink's pull request, updated in place; both outcomes on the webhook);
``fork-pull-request`` (the same from a fork whose genaiops.yaml and environment settings point every
endpoint at the sink with the pipeline Secret's canary as key: the run reads endpoints from the base commit
and Succeeds, no pod references the Secret, the sink gets no model call and never sees the canary).
Argo CD: ``argocd-bootstrapped`` (the root Application and every environment's Application synced main's
head); ``synced WORKFLOW ENV`` (ENV's Application synced WORKFLOW's promotion commit, and a ConfigMap with
the promoted digest is in ENV's namespace; prints commit -> synced seconds; ``--retired``: WORKFLOW's
retirement commit, and no ConfigMap of the retired artifact is left).
Argo Rollouts: ``rolled-out WORKFLOW ENV --rollout NAME`` (ENV synced WORKFLOW's promotion and is Healthy;
the Rollout NAME is Healthy on the revision that mounts the promoted digest, its analyses passed on
Prometheus data, and that revision answered requests for the artifact; prints commit -> Healthy seconds);
``aborted WORKFLOW ENV --rollout NAME`` (the canary of WORKFLOW's bad version failed its analysis and was
aborted, the stable revision keeps all its pods and answers); ``restored WORKFLOW ENV --rollout NAME``
(after WORKFLOW's rollback commit, or with ``--revert`` the revert of change WORKFLOW, the Rollout is
Healthy on that stable revision again); ``smoke-failed CHANGE ENV --rollout NAME`` (the new colour of
CHANGE failed its blue-green smoke test: aborted, and the active Service still selects the stable colour,
which keeps answering).
Faults: ``git-outage WORKFLOW`` (stop the git server from just before promote until its first attempt
failed), ``controller-restart WORKFLOW NODE`` (delete the workflow-controller pod while NODE runs).
Each prints what it found and exits 1 with a clear message when the expectation does not hold.
"""

from __future__ import annotations

import argparse
import json
import sys

from genaiops.errors import GenaiopsError
from genaiops_e2e import kube
from genaiops_e2e.probe.argocd import bootstrapped, synced
from genaiops_e2e.probe.bluegreen import smoke_failed
from genaiops_e2e.probe.common import (
    EXAMPLES,
    ProbeFailed,
    cluster_of,
    load_record,
    record_path,
    save_record,
    shipped_kinds,
)
from genaiops_e2e.probe.faults import controller_restart, git_outage
from genaiops_e2e.probe.fork import fork_pull_request
from genaiops_e2e.probe.pullrequest import pull_request
from genaiops_e2e.probe.repo import (
    env_change,
    not_promoted,
    promoted,
    read_only_token,
    retired,
    revert,
    snapshot,
)
from genaiops_e2e.probe.rollout import aborted, restored, rolled_out
from genaiops_e2e.probe.store import deployed, reports, signed
from genaiops_e2e.probe.submit import change, change_all, cron, delete, submit_cd
from genaiops_e2e.probe.webhook import webhook
from genaiops_e2e.probe.workflows import approve, check_ci, ran, reject, restricted, settings, wait, wait_node
from genaiops_e2e.proc import HarnessError
from genaiops_e2e.state import State

FIRST = "{first}"
"""In a workflow name: the first artifact kind the repository ships (rendered repositories may lack some)."""


RELEASED_BY = "released-by:"
"""A workflow name ``released-by:CI`` means the CD workflow CI's hand-off step started."""


def _resolve(state: State, name: str) -> str:
    name = name.replace(FIRST, shipped_kinds(state)[0])
    if not name.startswith(RELEASED_BY):
        return name
    source = name.removeprefix(RELEASED_BY)
    listed = json.loads(
        kube.kubectl(
            cluster_of(state),
            "-n",
            state.namespace,
            "get",
            "workflows",
            "-o",
            "json",
            "-l",
            f"genaiops.dev/released-by={source}",
        )
    )
    names = [w["metadata"]["name"] for w in listed["items"] if not w["metadata"].get("deletionTimestamp")]
    if len(names) != 1:
        raise ProbeFailed(f"expected one workflow started by {source}'s hand-off, found {names}")
    if not record_path(names[0]).exists():  # it delivers the change its CI workflow recorded
        save_record(names[0], load_record(source))
    return names[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genaiops_e2e.probe", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: object, *positionals: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name)
        for positional in positionals:
            p.add_argument(positional)
        p.set_defaults(handler=handler)
        return p

    p = command("change", change)
    p.add_argument("kind", choices=["first", *sorted(EXAMPLES)])
    p.add_argument("workflow")
    p.add_argument("--artifact")
    flaw = p.add_mutually_exclusive_group()
    flaw.add_argument("--broken", action="store_true")
    flaw.add_argument("--serving-bug", action="store_true")
    command("change-all", change_all, "prefix")
    p = command("delete", delete, "kind", "workflow")
    p.add_argument("--artifact")
    command("retired", retired, "workflow", "env")
    p = command("submit-cd", submit_cd, "change", "workflow")
    p.add_argument("--env", required=True)
    p.add_argument("--approval", action="store_true")
    p.add_argument("--rollback", action="store_true")
    command("cron", cron, "cron", "workflow")
    p = command("wait", wait)
    p.add_argument("workflows", nargs="*")
    p.add_argument("--prefix", help="also every workflow whose name starts with this")
    p.add_argument("--phase", default="Succeeded")
    p.add_argument("--timeout", type=int, default=900)
    p = command("wait-node", wait_node, "workflow", "node")
    p.add_argument("--phase", default="Running")
    p.add_argument("--timeout", type=int, default=900)
    p = command("ran", ran, "workflow")
    p.add_argument("--failed")
    p.add_argument("--absent", nargs="*", default=[])
    p = command("reports", reports, "workflow")
    p.add_argument("files", nargs="*")
    p.add_argument("--absent", nargs="*", default=[])
    p.add_argument("--rule")
    command("signed", signed, "workflow")
    p = command("promoted", promoted, "workflow", "env")
    p.add_argument("--count", type=int)
    p.add_argument("--approver", help="the promotion records this approver (an approval in WORKFLOW)")
    command("not-promoted", not_promoted, "workflow")
    command("check-ci", check_ci, "prefix", "env")
    p = command("deployed", deployed, "workflow", "env")
    p.add_argument("stage", choices=("eval", "validate"))
    p.add_argument("--kind")
    p.add_argument("--recorded", action="store_true", help="its verdicts are in environments/ENV/checks.yaml")
    command("read-only-token", read_only_token)
    p = command("restricted", restricted)
    p.add_argument("prefixes", nargs="+")
    command("revert", revert, "workflow")
    p = command("snapshot", snapshot, "workflow", "env")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--save")
    group.add_argument("--compare")
    p = command("approve", approve, "workflow")
    p.add_argument("--approver", default="e2e-release-manager", help="who approves (recorded)")
    p.add_argument("--anonymous", action="store_true", help="resume without naming one: must be refused")
    command("reject", reject, "workflow")
    command("git-outage", git_outage, "workflow").add_argument("--timeout", type=int, default=900)
    command("controller-restart", controller_restart, "workflow", "node").add_argument(
        "--timeout", type=int, default=900
    )
    command("settings", settings, "key", "value")
    p = command("webhook", webhook)
    p.add_argument("--files", type=int, default=50)
    p.add_argument("--bad-signature", action="store_true")
    p.add_argument("--timeout", type=int, default=300)
    command("pull-request", pull_request).add_argument("--timeout", type=int, default=600)
    command("fork-pull-request", fork_pull_request).add_argument("--timeout", type=int, default=600)
    command("argocd-bootstrapped", bootstrapped).add_argument("--timeout", type=int, default=300)
    p = command("synced", synced, "workflow", "env")
    p.add_argument("--timeout", type=int, default=300)
    p.add_argument("--retired", action="store_true")
    for name, handler in (("rolled-out", rolled_out), ("aborted", aborted), ("restored", restored)):
        p = command(name, handler, "workflow", "env")
        p.add_argument("--rollout", required=True)
        p.add_argument("--timeout", type=int, default=600)
        if name == "restored":
            p.add_argument("--revert", action="store_true")
    p = command("env-change", env_change, "change", "env", "key", "value")
    p = command("smoke-failed", smoke_failed, "change", "env")
    p.add_argument("--rollout", required=True)
    p.add_argument("--timeout", type=int, default=600)
    args = parser.parse_args(argv)
    try:
        if any(FIRST in str(v) or RELEASED_BY in str(v) for v in vars(args).values()):
            state = State.load()
            for field in ("workflow", "change", "prefix"):
                if isinstance(getattr(args, field, None), str):
                    setattr(args, field, _resolve(state, getattr(args, field)))
            if getattr(args, "workflows", None):
                args.workflows = [_resolve(state, name) for name in args.workflows]
        args.handler(args)
    except (ProbeFailed, HarnessError, GenaiopsError) as exc:
        print(f"probe {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
