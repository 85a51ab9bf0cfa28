"""``python -m genaiops_e2e.probe``: what the chainsaw scenarios do from the host.

- ``change KIND WORKFLOW [--broken]``: commit a change to one example artifact of KIND on the git server's
  main branch and submit KIND's CI WorkflowTemplate for that commit with the parameters its Sensor would
  pass (a GitHub push payload for the commit). ``--broken`` declares no variable the template uses.
- ``submit-cd KIND WORKFLOW --env ENV [--rollback]``: submit KIND's CD template for the last change.
- ``reports WORKFLOW FILE...``: the files exist in the artifact store under ``WORKFLOW/<pod>/``;
  ``--rule ID`` also checks that the lint report names that rule.
- ``signed WORKFLOW``: the scorecard's signature in the store verifies with the run's cosign public key.
- ``promoted WORKFLOW ENV`` / ``not-promoted WORKFLOW``: a promotion commit for the change is (or is not)
  on the git server's main branch; with one, ``kustomize build environments/ENV`` carries its digest.
- ``approve WORKFLOW`` / ``reject WORKFLOW``: resume or stop the suspended approval (the argo CLI).
- ``snapshot ENV KIND`` / ``same-snapshot FILE ENV KIND``: save / compare the environment's files of the
  changed artifact (byte-identical rollback).
Each prints what it found and exits non-zero with a clear message when the expectation does not hold.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from genaiops.discovery import digest, resolve_paths
from genaiops.errors import GenaiopsError
from genaiops.kinds import BY_NAME
from genaiops.promote.snapshot import Snapshot, env_artifact_dir, labels
from genaiops_e2e import gobuild, kube
from genaiops_e2e.proc import HarnessError
from genaiops_e2e.state import State

EXAMPLES = {"prompt": "review-sentiment", "model-config": "support-assistant", "rag": "internal-kb", "guardrail": "customer-support"}
"""The example artifact each kind's scenario changes (its recorded cassettes still answer the eval)."""


class ProbeFailed(Exception):
    """An expectation of a scenario did not hold."""


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "genaiops e2e",
        "GIT_AUTHOR_EMAIL": "e2e@genaiops.invalid",
        "GIT_COMMITTER_NAME": "genaiops e2e",
        "GIT_COMMITTER_EMAIL": "e2e@genaiops.invalid",
        "GIT_TERMINAL_PROMPT": "0",
    }
    proc = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise HarnessError(f"git {args[0]}: {proc.stderr.strip()}".replace(State.load().git_token, "***"))
    return proc.stdout


@contextmanager
def clone(state: State) -> Iterator[Path]:
    """A fresh clone of the git server's main branch."""
    with tempfile.TemporaryDirectory(prefix="genaiops-probe-") as scratch:
        tree = Path(scratch) / "repo"
        _git(Path(scratch), "clone", "--quiet", "--branch", "main", state.git_url_host_auth, str(tree))
        yield tree


def _record_path(workflow: str) -> Path:
    return State.path().parent / "scenarios" / f"{workflow}.json"


def _save_record(workflow: str, record: dict[str, str]) -> None:
    path = _record_path(workflow)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2))


def _record(workflow: str) -> dict[str, str]:
    path = _record_path(workflow)
    if not path.exists():
        raise ProbeFailed(f"no change was recorded for {workflow} (run `probe change` first)")
    return json.loads(path.read_text())


def _edit(tree: Path, kind: str, artifact_id: str, broken: bool) -> str:
    """Change the artifact; returns its folder (relative)."""
    rel = f"artifacts/{BY_NAME[kind].folder}/{artifact_id}"
    if broken:
        template = tree / rel / "template.j2"
        template.write_text(template.read_text() + "\n{{ e2e_undeclared_variable }}\n")
        return rel
    manifest = tree / rel / BY_NAME[kind].manifest
    text = manifest.read_text()
    marker = re.search(r"^description: >-\n((?:  .*\n)+)", text, re.MULTILINE)
    if marker is None:
        raise HarnessError(f"{manifest}: no folded description to change")
    stamp = f"  (e2e change {os.urandom(4).hex()})\n"
    manifest.write_text(text[: marker.end()] + stamp + text[marker.end() :])
    return rel


def _push_payload(state: State, before: str, after: str, rel: str, changed: list[str]) -> dict[str, object]:
    owner, name = state.git_url_cluster.rsplit("/", 2)[-2:]
    name = name.removesuffix(".git")
    return {
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "repository": {"full_name": f"{owner}/{name}", "clone_url": state.git_url_cluster},
        "commits": [{"id": after, "added": [], "removed": [], "modified": changed}],
        "head_commit": {"id": after, "message": f"e2e: change {rel}"},
    }


def _workflow(name: str, template: str, parameters: dict[str, str], labels_: dict[str, str]) -> str:
    return json.dumps(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"name": name, "labels": {"genaiops.dev/e2e": "true", **labels_}},
            "spec": {
                "workflowTemplateRef": {"name": template},
                "arguments": {"parameters": [{"name": k, "value": v} for k, v in parameters.items()]},
            },
        }
    )


def change(args: argparse.Namespace) -> None:
    state = State.load()
    kind, artifact_id = args.kind, args.artifact or EXAMPLES[args.kind]
    with clone(state) as tree:
        before = _git(tree, "rev-parse", "HEAD").strip()
        rel = _edit(tree, kind, artifact_id, args.broken)
        changed = [line[3:] for line in _git(tree, "status", "--porcelain").splitlines()]
        _git(tree, "commit", "--quiet", "-am", f"e2e: change {rel}")
        after = _git(tree, "rev-parse", "HEAD").strip()
        _git(tree, "push", "--quiet", "origin", "main")
        artifact = resolve_paths(tree, [str(tree / rel)])[0]
        version = str(yaml.safe_load((tree / rel / BY_NAME[kind].manifest).read_text())["version"])
        snapshot_digest = labels(Snapshot(kind, artifact_id, version, digest(artifact), {}))["genaiops.dev/digest"]
    payload = _push_payload(state, before, after, rel, changed)
    parameters = {
        "repo-url": state.git_url_cluster,
        "commit-sha": after,
        "branch": "main",
        "event-type": "push",
        "event": json.dumps(payload),
        "repository": str(payload["repository"]["full_name"]),  # type: ignore[index]
    }
    manifest = _workflow(args.workflow, f"{kind}-ci-v1", parameters, {"genaiops.dev/trigger": "push"})
    kube.kubectl(_cluster(state), "-n", state.namespace, "create", "-f", "-", input_text=manifest)
    _save_record(
        args.workflow,
        {"kind": kind, "id": artifact_id, "path": rel, "before": before, "after": after, "digest": snapshot_digest},
    )
    print(f"pushed {after[:12]} changing {rel}; submitted {args.workflow} from {kind}-ci-v1")


def submit_cd(args: argparse.Namespace) -> None:
    state = State.load()
    record = _record(args.change)
    parameters = {
        "commit-sha": record["after"],
        "artifact-path": record["path"],
        "environment": args.env,
        "require-approval": "true" if args.approval else "false",
        "rollback": "true" if args.rollback else "false",
    }
    manifest = _workflow(args.workflow, f"{record['kind']}-cd-v1", parameters, {})
    kube.kubectl(_cluster(state), "-n", state.namespace, "create", "-f", "-", input_text=manifest)
    _save_record(args.workflow, record)
    print(f"submitted {args.workflow} from {record['kind']}-cd-v1 for {record['path']} to {args.env}")


def _cluster(state: State) -> kube.Cluster:
    from genaiops_e2e.cluster import Cluster, tool_path

    env = {"KUBECONFIG": state.kubeconfig, "PATH": tool_path(dict(os.environ))}
    return Cluster("genaiops-e2e", Path(state.kubeconfig), "", state.node_ip, env)


def _s3(state: State):  # type: ignore[no-untyped-def]
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=f"http://{state.s3_endpoint_host}",
        aws_access_key_id=state.s3_access_key,
        aws_secret_access_key=state.s3_secret_key,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
    )


def _objects(state: State, workflow: str) -> list[str]:
    client = _s3(state)
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=state.bucket, Prefix=f"{workflow}/"):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


def reports(args: argparse.Namespace) -> None:
    state = State.load()
    keys = _objects(state, args.workflow)
    names = {key.rsplit("/", 1)[-1]: key for key in keys}
    missing = [name for name in args.files if name not in names]
    if missing:
        raise ProbeFailed(f"not in s3://{state.bucket}/{args.workflow}/: {missing}; found {sorted(names)}")
    unexpected = [name for name in args.absent if name in names]
    if unexpected:
        raise ProbeFailed(f"in s3://{state.bucket}/{args.workflow}/ but must not be: {unexpected}")
    if args.rule:
        body = _s3(state).get_object(Bucket=state.bucket, Key=names["lint-report.json"])["Body"].read()
        report = json.loads(body)
        rules = {f.get("rule") for a in report.get("artifacts", []) for f in a.get("findings", [])}
        if args.rule not in rules:
            raise ProbeFailed(f"the lint report does not name {args.rule}; it names {sorted(filter(None, rules))}")
    print(f"s3://{state.bucket}/{args.workflow}/: {', '.join(sorted(args.files))} present")


def signed(args: argparse.Namespace) -> None:
    state = State.load()
    keys = _objects(state, args.workflow)
    client = _s3(state)
    pairs = [(k, k.removesuffix(".sig")) for k in keys if k.endswith("eval-report.json.sig")]
    if not pairs:
        raise ProbeFailed(f"no eval-report.json.sig in s3://{state.bucket}/{args.workflow}/")
    cosign = gobuild.binary(gobuild.COSIGN, "cosign")
    with tempfile.TemporaryDirectory(prefix="genaiops-probe-") as scratch:
        folder = Path(scratch)
        sig_key = pairs[0][0]
        report_key = next((k for k in keys if k.endswith("/eval-report.json")), None)
        if report_key is None:
            raise ProbeFailed("no eval-report.json next to the signature")
        (folder / "report.json").write_bytes(client.get_object(Bucket=state.bucket, Key=report_key)["Body"].read())
        (folder / "report.sig").write_bytes(client.get_object(Bucket=state.bucket, Key=sig_key)["Body"].read())
        public = State.path().parent / "cosign" / "cosign.pub"
        proc = subprocess.run(
            [str(cosign), "verify-blob", f"--key={public}", "--insecure-ignore-tlog=true",
             f"--signature={folder / 'report.sig'}", str(folder / "report.json")],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            raise ProbeFailed(f"the scorecard signature does not verify: {proc.stderr.strip()}")
    print(f"{report_key} is signed ({sig_key}) and verifies with the run's cosign key")


def _promotions(tree: Path, since: str, workflow: str) -> list[str]:
    """Commits on main after ``since`` that ``workflow`` made (genaiops records it in a trailer)."""
    out = _git(tree, "log", "--format=%H%x00%B%x01", f"{since}..HEAD")
    found = []
    for entry in filter(str.strip, out.split("\x01")):
        sha, _, body = entry.strip().partition("\x00")
        if f"Genaiops-Workflow: {workflow}" in body.splitlines():
            found.append(sha)
    return found


def promoted(args: argparse.Namespace) -> None:
    state = State.load()
    record = _record(args.workflow)
    with clone(state) as tree:
        commits = _promotions(tree, record["after"], args.workflow)
        if args.count is not None and len(commits) != args.count:
            raise ProbeFailed(f"expected {args.count} commit(s) by {args.workflow}, found {len(commits)}: {commits}")
        if not commits:
            raise ProbeFailed(f"no promotion commit by {args.workflow} on main after {record['after'][:12]}")
        built = kube.build(Path(state.repo), tree / "environments" / args.env)
        if record["digest"] not in built:
            raise ProbeFailed(f"kustomize build environments/{args.env} lacks {record['digest']}")
        snapshot = tree / env_artifact_dir(args.env, record["kind"], record["id"])
        if not snapshot.is_dir():
            raise ProbeFailed(f"{snapshot.relative_to(tree)} is missing")
    print(f"{commits[0][:12]} by {args.workflow} promoted {record['id']} to {args.env}; the build carries {record['digest']}")


def not_promoted(args: argparse.Namespace) -> None:
    state = State.load()
    record = _record(args.workflow)
    with clone(state) as tree:
        commits = _promotions(tree, record["after"], args.workflow)
    if commits:
        raise ProbeFailed(f"{args.workflow} pushed commits to main: {commits}")
    print(f"{args.workflow} pushed nothing after {record['after'][:12]}")


def snapshot(args: argparse.Namespace) -> None:
    state = State.load()
    record = _record(args.workflow)
    with clone(state) as tree:
        folder = tree / env_artifact_dir(args.env, record["kind"], record["id"])
        files = {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}
        kustomization = (tree / "environments" / args.env / "kustomization.yaml").read_text()
    data = {"files": files, "kustomization": kustomization}
    if args.compare:
        saved = json.loads(Path(args.compare).read_text())
        if saved != data:
            raise ProbeFailed(f"environments/{args.env} differs from the snapshot in {args.compare}")
        print(f"environments/{args.env} is byte-identical to {args.compare}")
        return
    Path(args.save).write_text(json.dumps(data))
    print(f"saved environments/{args.env} ({len(files)} files of {record['id']}) to {args.save}")


def _argo(state: State, *args: str) -> None:
    argo = kube.tools_bin(Path(state.repo)) / "argo"
    env = {**os.environ, "KUBECONFIG": state.kubeconfig}
    proc = subprocess.run([str(argo), "-n", state.namespace, *args], capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise HarnessError(f"argo {' '.join(args)}: {proc.stderr.strip()}")
    print(proc.stdout.strip())


def approve(args: argparse.Namespace) -> None:
    _argo(State.load(), "resume", args.workflow)


def reject(args: argparse.Namespace) -> None:
    _argo(State.load(), "stop", args.workflow)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genaiops_e2e.probe", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("change")
    p.add_argument("kind", choices=sorted(EXAMPLES))
    p.add_argument("workflow")
    p.add_argument("--artifact")
    p.add_argument("--broken", action="store_true")
    p.set_defaults(handler=change)
    p = sub.add_parser("submit-cd")
    p.add_argument("change", help="the workflow whose change to deliver")
    p.add_argument("workflow")
    p.add_argument("--env", required=True)
    p.add_argument("--approval", action="store_true")
    p.add_argument("--rollback", action="store_true")
    p.set_defaults(handler=submit_cd)
    p = sub.add_parser("reports")
    p.add_argument("workflow")
    p.add_argument("files", nargs="*")
    p.add_argument("--absent", nargs="*", default=[])
    p.add_argument("--rule")
    p.set_defaults(handler=reports)
    p = sub.add_parser("signed")
    p.add_argument("workflow")
    p.set_defaults(handler=signed)
    p = sub.add_parser("promoted")
    p.add_argument("workflow")
    p.add_argument("env")
    p.add_argument("--count", type=int)
    p.set_defaults(handler=promoted)
    p = sub.add_parser("not-promoted")
    p.add_argument("workflow")
    p.set_defaults(handler=not_promoted)
    p = sub.add_parser("snapshot")
    p.add_argument("workflow")
    p.add_argument("env")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--save")
    group.add_argument("--compare")
    p.set_defaults(handler=snapshot)
    for name, handler in (("approve", approve), ("reject", reject)):
        p = sub.add_parser(name)
        p.add_argument("workflow")
        p.set_defaults(handler=handler)
    args = parser.parse_args(argv)
    try:
        args.handler(args)
    except (ProbeFailed, HarnessError, GenaiopsError) as exc:
        print(f"probe {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
