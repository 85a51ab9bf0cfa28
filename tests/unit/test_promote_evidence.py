"""Signed evidence: promote verifies one signature over every report the gate reads before trusting any.

Signatures are made as `cosign sign-blob --key` makes them (base64 of an ASN.1 ECDSA P-256 signature over
SHA-256); the e2e suite checks the same code against real cosign signatures on the cluster.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from genaiops.promote.evidence import EvidenceError, build_manifest, verify_signature
from tests.unit.promote_support import World, git, make_world


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


class Signer:
    """An ECDSA P-256 key pair, as `cosign generate-key-pair` makes by default."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, data: bytes) -> bytes:
        return base64.b64encode(self.key.sign(data, ec.ECDSA(hashes.SHA256())))


def _sign_reports(world: World, signer: Signer, run_cli: Any, out: Path) -> tuple[Path, Path, Path]:
    reports = sorted(world.reports.glob("*.json"))
    result = run_cli("evidence", *map(str, reports), "--out", str(out / "evidence.json"))
    assert result.code == 0, result.stderr
    assert len(result.report["context"]["evidence"]["reports"]) == len(reports)
    evidence = out / "evidence.json"
    (out / "evidence.json.sig").write_bytes(signer.sign(evidence.read_bytes()))
    (out / "cosign.pub").write_bytes(signer.public_pem())
    return evidence, out / "evidence.json.sig", out / "cosign.pub"


def _promote(run_cli: Any, world: World, path: str, *extra: str) -> Any:
    return run_cli(
        "promote", "--env", "dev", "--repo", str(world.repo), "--reports", str(world.reports), path, *extra
    )


def _verify_args(evidence: Path, signature: Path, key: Path) -> list[str]:
    return ["--evidence", str(evidence), "--signature", str(signature), "--public-key", str(key)]


def _errors(result: Any) -> list[str]:
    return [
        f["ruleId"] for a in result.report["artifacts"] for f in a["findings"] if f["severity"] == "error"
    ]


def _remote_commits(world: World) -> int:
    return len(git(world.remote, "rev-list", "--all").split())


def test_manifest_lists_every_report_with_its_hash_stage_environment_and_digests(
    world: World, run_cli: Any, tmp_path: Path
) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact], envs=("dev",))
    manifest = build_manifest(sorted(world.reports.glob("*.json")))
    by_stage = {entry["stage"]: entry for entry in manifest["reports"]}
    assert sorted(by_stage) == ["eval", "lint", "validate"]
    assert by_stage["eval"]["environment"] == "dev" and by_stage["lint"]["environment"] is None
    assert by_stage["eval"]["artifacts"][0]["id"] == "greeter"
    assert by_stage["eval"]["artifacts"][0]["digest"].startswith("sha256:")
    assert all(len(entry["sha256"]) == 64 for entry in manifest["reports"])


def test_signed_evidence_lets_the_promotion_through(world: World, run_cli: Any, tmp_path: Path) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact], envs=("dev",))
    files = _sign_reports(world, Signer(), run_cli, tmp_path)
    result = _promote(run_cli, world, str(artifact.root), *_verify_args(*files))
    assert result.code == 0, result.stderr
    assert result.report["artifacts"][0]["details"]["promotion"]["status"] == "pushed"


@pytest.mark.parametrize("stage", ["lint", "validate", "eval"])
def test_a_report_edited_after_signing_is_not_trusted(
    world: World, run_cli: Any, tmp_path: Path, stage: str
) -> None:
    """Lint and validate are covered as well as the scorecard: any edited report is refused."""
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact], envs=("dev",))
    files = _sign_reports(world, Signer(), run_cli, tmp_path)
    (edited,) = world.reports.glob(f"{stage}-report*.json")
    data = json.loads(edited.read_text())
    data["finishedAt"] = "2099-01-01T00:00:00Z"  # a harmless-looking edit still changes the bytes
    edited.write_text(json.dumps(data))
    before = _remote_commits(world)
    result = _promote(run_cli, world, str(artifact.root), *_verify_args(*files))
    assert result.code == 1
    assert _errors(result) == ["promote/unsigned-report"]
    assert stage in result.report["artifacts"][0]["findings"][0]["message"]
    assert _remote_commits(world) == before


def test_an_added_unsigned_report_does_not_count(world: World, run_cli: Any, tmp_path: Path) -> None:
    """A forged newer scorecard next to the signed one is ignored: the signed one decides."""
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact], envs=("dev",))
    files = _sign_reports(world, Signer(), run_cli, tmp_path)
    (signed_eval,) = world.reports.glob("eval-report*.json")
    forged = json.loads(signed_eval.read_text())
    forged["finishedAt"] = "2099-01-01T00:00:00Z"
    forged["artifacts"][0]["details"]["scorecard"]["metrics"][0]["value"] = 0.0  # would fail the gate
    (world.reports / "eval-report-forged.json").write_text(json.dumps(forged))
    result = _promote(run_cli, world, str(artifact.root), *_verify_args(*files))
    assert result.code == 0, result.report["artifacts"][0]["findings"]
    assert result.report["artifacts"][0]["details"]["gate"]["reports"]["eval"] == signed_eval.name


@pytest.mark.parametrize("tamper", ["manifest", "signature", "other-key", "missing-signature"])
def test_evidence_that_does_not_verify_refuses_everything(
    world: World, run_cli: Any, tmp_path: Path, tamper: str
) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact], envs=("dev",))
    evidence, signature, key = _sign_reports(world, Signer(), run_cli, tmp_path)
    if tamper == "manifest":
        evidence.write_text(evidence.read_text().replace('"lint"', '"lint" '))
    elif tamper == "signature":
        signature.write_text("bm90IGEgc2lnbmF0dXJl\n")
    elif tamper == "other-key":
        key.write_bytes(Signer().public_pem())
    else:
        signature.unlink()
    before = _remote_commits(world)
    result = _promote(run_cli, world, str(artifact.root), *_verify_args(evidence, signature, key))
    assert result.code == 1
    assert _errors(result) == ["promote/evidence-signature"]
    assert _remote_commits(world) == before


def test_evidence_without_a_key_is_a_usage_error(world: World, run_cli: Any, tmp_path: Path) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact], envs=("dev",))
    evidence, signature, _ = _sign_reports(world, Signer(), run_cli, tmp_path)
    result = _promote(
        run_cli, world, str(artifact.root), "--evidence", str(evidence), "--signature", str(signature)
    )
    assert result.code == 2
    assert "--public-key" in result.stderr


def test_ed25519_keys_verify_too() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    verify_signature(b"evidence", base64.b64encode(key.sign(b"evidence")), pem)
    with pytest.raises(EvidenceError, match="does not verify"):
        verify_signature(b"evidencE", base64.b64encode(key.sign(b"evidence")), pem)


@pytest.mark.parametrize(
    ("signature", "key", "message"),
    [(b"%%%", None, "not base64"), (b"AAAA", b"not a key", "not a PEM public key")],
)
def test_garbage_signatures_and_keys_are_clear_errors(
    signature: bytes, key: bytes | None, message: str
) -> None:
    pem = key if key is not None else Signer().public_pem()
    with pytest.raises(EvidenceError, match=message):
        verify_signature(b"data", signature, pem)


@pytest.mark.parametrize("content", ["", "not json", "[]", '{"stage": 3}'])
def test_evidence_of_garbage_reports_is_a_usage_error(run_cli: Any, tmp_path: Path, content: str) -> None:
    bad = tmp_path / "report.json"
    bad.write_text(content)
    result = run_cli("evidence", str(bad), "--out", str(tmp_path / "out.json"))
    assert result.code == 2
    assert result.report["findings"][0]["severity"] == "error"
    assert not (tmp_path / "out.json").exists()
