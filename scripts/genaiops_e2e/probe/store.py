"""The artifact store side: reports under a workflow's folder, scorecard signatures, what a check covered."""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import tempfile
from pathlib import Path

import yaml

from genaiops.kinds import BY_NAME
from genaiops.lineage import current
from genaiops_e2e import gobuild
from genaiops_e2e.probe.common import ProbeFailed
from genaiops_e2e.probe.repo import clone
from genaiops_e2e.state import State


def s3_client(state: State):  # type: ignore[no-untyped-def]
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


def object_keys(state: State, workflow: str) -> list[str]:
    client = s3_client(state)
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=state.bucket, Prefix=f"{workflow}/"):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


def reports(args: argparse.Namespace) -> None:
    state = State.load()
    keys = object_keys(state, args.workflow)
    names = {key.rsplit("/", 1)[-1]: key for key in keys}
    missing = [name for name in args.files if name not in names]
    if missing:
        raise ProbeFailed(f"not in s3://{state.bucket}/{args.workflow}/: {missing}; found {sorted(names)}")
    unexpected = [name for name in args.absent if name in names]
    if unexpected:
        raise ProbeFailed(f"in s3://{state.bucket}/{args.workflow}/ but must not be: {unexpected}")
    if args.rule:
        named = (args.files or ["lint-report.json"])[0]  # the first report named, else the lint report
        body = s3_client(state).get_object(Bucket=state.bucket, Key=names[named])["Body"].read()
        report = json.loads(body)
        rules = {f.get("ruleId") for a in report.get("artifacts", []) for f in a.get("findings", [])}
        if args.rule not in rules:
            raise ProbeFailed(f"{named} does not name {args.rule}; it names {sorted(filter(None, rules))}")
    print(f"s3://{state.bucket}/{args.workflow}/: {', '.join(sorted(args.files))} present")


def signed(args: argparse.Namespace) -> None:
    """The run's evidence manifest verifies with the cosign key (real cosign) and lists the exact bytes of
    the stored lint, validate and eval reports."""
    state = State.load()
    keys = object_keys(state, args.workflow)
    client = s3_client(state)

    def body(key: str) -> bytes:
        return client.get_object(Bucket=state.bucket, Key=key)["Body"].read()

    sig_key = next((k for k in keys if k.endswith("/evidence.json.sig")), None)
    evidence_key = next((k for k in keys if k.endswith("/evidence.json")), None)
    if sig_key is None or evidence_key is None:
        raise ProbeFailed(f"no evidence.json and evidence.json.sig in s3://{state.bucket}/{args.workflow}/")
    cosign = gobuild.binary(gobuild.COSIGN, "cosign")
    evidence = body(evidence_key)
    with tempfile.TemporaryDirectory(prefix="genaiops-probe-") as scratch:
        folder = Path(scratch)
        (folder / "evidence.json").write_bytes(evidence)
        (folder / "evidence.sig").write_bytes(body(sig_key))
        public = State.path().parent / "cosign" / "cosign.pub"
        proc = subprocess.run(
            [
                str(cosign),
                "verify-blob",
                f"--key={public}",
                "--insecure-ignore-tlog=true",
                f"--signature={folder / 'evidence.sig'}",
                str(folder / "evidence.json"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise ProbeFailed(f"the evidence signature does not verify: {proc.stderr.strip()}")
    listed = {entry.get("sha256") for entry in json.loads(evidence).get("reports") or []}
    for name in ("lint-report.json", "validate-report.json", "eval-report.json"):
        stored = [k for k in keys if k.endswith("/" + name)]
        if not any(hashlib.sha256(body(k)).hexdigest() in listed for k in stored):
            raise ProbeFailed(f"the signed evidence does not list the stored {name} ({stored})")
    print(
        f"{evidence_key} is signed ({sig_key}), verifies with the run's cosign key "
        "and lists the stored reports"
    )


def deployed(args: argparse.Namespace) -> None:
    state = State.load()
    report_name = f"{args.stage}-report.json"
    keys = [k for k in object_keys(state, args.workflow) if k.endswith("/" + report_name)]
    if not keys:
        raise ProbeFailed(f"no {report_name} of {args.workflow} in the artifact store")
    report = json.loads(s3_client(state).get_object(Bucket=state.bucket, Key=keys[0])["Body"].read())
    context = report.get("context") or {}
    if (context.get("deployed") or {}).get("environment") != args.env:
        raise ProbeFailed(f"the {args.stage} report did not check what {args.env} deploys: context {context}")
    checked = sorted(f"{a.get('kind')}/{a.get('id')}" for a in report.get("artifacts", []))
    with clone(state) as tree:
        root = tree / "environments" / args.env / "artifacts"
        wanted = sorted(
            f"{kind.name}/{d.name}"
            for kind in BY_NAME.values()
            if (root / kind.name).is_dir()
            for d in (root / kind.name).iterdir()
            if d.is_dir() and (args.kind is None or kind.name == args.kind)
        )
        records = _recorded_checks(tree, args.env, wanted, args.workflow) if args.recorded else ""
    if not wanted:
        raise ProbeFailed(f"nothing is deployed in {args.env}: the check proves nothing")
    if checked != wanted:
        raise ProbeFailed(f"{args.stage} checked {checked}, but {args.env} deploys {wanted}")
    print(f"{args.workflow}: {args.stage} checked exactly what {args.env} deploys: {', '.join(checked)}")
    if records:
        print(records)


def _recorded_checks(tree: Path, env: str, wanted: list[str], workflow: str) -> str:
    """Every deployed artifact's verdict is recorded by WORKFLOW (genaiops record-check) in
    environments/ENV/checks.yaml on main, for the version and digest ENV's lineage deploys."""
    path = tree / "environments" / env / "checks.yaml"
    if not path.is_file():
        raise ProbeFailed(
            f"no environments/{env}/checks.yaml on main: the check's verdicts were not recorded"
        )
    records = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("artifacts") or {}
    for ref in wanted:
        kind, _, artifact_id = ref.partition("/")
        record, deployed = records.get(ref) or {}, current(tree, env, kind, artifact_id)
        if deployed is None or record.get("workflow") != workflow:
            raise ProbeFailed(f"{ref}: no verdict of {workflow} in checks.yaml (found {record})")
        if (record.get("version"), record.get("digest")) != (deployed.version, deployed.digest):
            raise ProbeFailed(
                f"{ref}: the record names {record.get('version')}, {env} deploys {deployed.version}"
            )
        if record.get("status") != "pass":
            raise ProbeFailed(
                f"{ref}: the recorded verdict is {record.get('status')} {record.get('findings')}"
            )
    return f"environments/{env}/checks.yaml records {workflow}'s passing verdict for all {len(wanted)}"
