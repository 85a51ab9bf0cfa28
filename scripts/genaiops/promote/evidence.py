"""Signed evidence: one manifest naming every report the promotion gate reads, signed as a whole.

The gate trusts three reports per artifact (lint, validate, eval), each recording the artifact's
content digest and the environment it was made for. ``genaiops evidence`` writes a manifest that lists
those report files with their SHA-256 (and, from each report, the artifacts and digests it covers);
CI signs the manifest with cosign (``cosign sign-blob``, platform/workflowtemplates/sign.yaml), so one
signature covers all the evidence and the artifact digests in it.

``genaiops promote --evidence FILE --signature FILE --public-key FILE`` verifies before it trusts: the
signature must verify against the public key (cosign's format: base64 of an ASN.1 ECDSA or RSA
PKCS#1 v1.5 signature over SHA-256, or Ed25519), and the gate then counts only reports whose exact
bytes the manifest lists (``promote/unsigned-report`` otherwise). A signature that does not verify
refuses every artifact of the run (``promote/evidence-signature``). Pull-request runs never sign:
only the default-branch CI and the CD gate hold the key.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genaiops import rules
from genaiops.commands import command_help
from genaiops.errors import UsageError
from genaiops.report import Report, write_json_atomic, write_report

FORMAT = "genaiops.dev/evidence/v1"
MAX_EVIDENCE_BYTES = 4 * 1024 * 1024
MAX_SIGNATURE_BYTES = 64 * 1024
MAX_REPORT_BYTES = 32 * 1024 * 1024

SIGNATURE_INVALID = rules.rule(
    "promote/evidence-signature",
    "promote",
    "Promotion was asked to verify signed evidence (--public-key) and the evidence manifest, its "
    "signature or the key is missing, unreadable, or does not verify: no report is trusted.",
    "Pass the evidence.json and evidence.json.sig that CI's sign step produced for these reports, and "
    "the environment's cosign.pub; re-run the pipeline if they were changed.",
)
UNSIGNED_REPORT = rules.rule(
    "promote/unsigned-report",
    "promote",
    "A report the gate would read is not listed, byte for byte, in the signed evidence manifest.",
    "Only reports produced and signed by the pipeline count: re-run it rather than editing a report.",
)


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _report_entry(path: Path) -> dict[str, Any]:
    """One manifest entry: the file's hash plus what the report says it covers."""
    if not path.is_file():
        raise UsageError(f"report {path} does not exist", hint="Pass the JSON reports the stages wrote.")
    if path.stat().st_size > MAX_REPORT_BYTES:
        raise UsageError(f"report {path} is larger than {MAX_REPORT_BYTES} bytes")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"report {path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("stage"), str):
        raise UsageError(f"{path} is not a genaiops report (no stage)")
    context = data.get("context") if isinstance(data.get("context"), dict) else {}
    covered = [
        {"kind": item.get("kind"), "id": item.get("id"), "digest": item.get("digest")}
        for item in data.get("artifacts") or []
        if isinstance(item, dict)
    ]
    return {
        "file": path.name,
        "sha256": sha256_file(path),
        "stage": data["stage"],
        "status": data.get("status"),
        "environment": context.get("env") if isinstance(context.get("env"), str) else None,
        "artifacts": covered,
    }


def build_manifest(reports: list[Path]) -> dict[str, Any]:
    """The evidence manifest of ``reports`` (the bytes CI signs)."""
    if not reports:
        raise UsageError(
            "no report given", hint="genaiops evidence lint.json validate.json eval.json --out F"
        )
    return {"apiVersion": FORMAT, "reports": [_report_entry(path) for path in reports]}


@dataclass(frozen=True)
class VerifiedEvidence:
    """The SHA-256 of every report file a verified manifest lists."""

    report_hashes: frozenset[str]

    def covers(self, path: Path) -> bool:
        """Whether ``path``'s exact bytes are listed in the signed manifest."""
        try:
            return sha256_file(path) in self.report_hashes
        except OSError:
            return False


class EvidenceError(Exception):
    """The evidence could not be verified; the message says why."""


def _read(path: Path, limit: int, what: str) -> bytes:
    try:
        if path.stat().st_size > limit:
            raise EvidenceError(f"{what} {path} is larger than {limit} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise EvidenceError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def verify_signature(data: bytes, signature_text: bytes, public_key_pem: bytes) -> None:
    """Check a cosign ``sign-blob`` signature (base64) over ``data``; raise EvidenceError if it fails."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    try:
        signature = base64.b64decode(signature_text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise EvidenceError("the signature is not base64 (cosign sign-blob --output-signature)") from None
    try:
        key = serialization.load_pem_public_key(public_key_pem)
    except (ValueError, TypeError):
        raise EvidenceError("the public key is not a PEM public key (cosign.pub)") from None
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            curve_hash = {384: hashes.SHA384(), 521: hashes.SHA512()}.get(key.curve.key_size, hashes.SHA256())
            key.verify(signature, data, ec.ECDSA(curve_hash))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise EvidenceError(f"unsupported public key type {type(key).__name__}")
    except InvalidSignature:
        raise EvidenceError(
            "the signature does not verify: the evidence was changed or signed by another key"
        ) from None


def load_verified(evidence: Path, signature: Path, public_key: Path) -> VerifiedEvidence:
    """Verify the manifest's signature, then return the report hashes it lists."""
    data = _read(evidence, MAX_EVIDENCE_BYTES, "evidence manifest")
    verify_signature(
        data, _read(signature, MAX_SIGNATURE_BYTES, "signature"), _read(public_key, 64 * 1024, "public key")
    )
    try:
        manifest = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise EvidenceError("the signed evidence manifest is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("apiVersion") != FORMAT:
        raise EvidenceError(f"the signed manifest is not {FORMAT}")
    hashes = {
        entry.get("sha256")
        for entry in manifest.get("reports") or []
        if isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
    }
    return VerifiedEvidence(frozenset(hashes))


def verified_from_options(options: dict[str, Any]) -> VerifiedEvidence | str | None:
    """What promote's --evidence/--signature/--public-key say: None when no verification was asked,
    the verified evidence, or the reason it failed (every artifact of the run is refused with it)."""
    evidence, signature, key = options.get("evidence"), options.get("signature"), options.get("public_key")
    if not key:
        if evidence or signature:
            raise UsageError("--evidence and --signature need --public-key to be verified against")
        return None
    if not evidence or not signature:
        return "--public-key needs --evidence FILE and --signature FILE (what CI's sign step produced)"
    try:
        return load_verified(Path(evidence), Path(signature), Path(key))
    except EvidenceError as exc:
        return str(exc)


def add_options(group: argparse._ArgumentGroup) -> None:
    """promote's options for signed evidence."""
    group.add_argument(
        "--evidence", metavar="FILE", type=Path, help="the evidence manifest CI signed (genaiops evidence)"
    )
    group.add_argument("--signature", metavar="FILE", type=Path, help="its cosign sign-blob signature")
    group.add_argument(
        "--public-key",
        metavar="FILE",
        type=Path,
        help="verify the signature with this cosign.pub before trusting any report; only reports the "
        "signed manifest lists then count",
    )


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "evidence",
        help=command_help("evidence"),
        description="List REPORT files with their SHA-256, stage, environment and the artifact digests "
        "they cover, as one JSON manifest for `cosign sign-blob`. See docs/promotion.md.",
    )
    p.add_argument("reports", nargs="+", metavar="REPORT", type=Path, help="lint, validate and eval reports")
    p.add_argument("--out", required=True, metavar="FILE", type=Path, help="where to write the manifest")
    p.add_argument(
        "--report", metavar="FILE", type=Path, help="where to write the command's JSON report (errors)"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    manifest = build_manifest(list(args.reports))
    try:
        write_json_atomic(args.out, manifest)
    except OSError as exc:
        raise UsageError(f"cannot write --out {args.out}: {exc.strerror}") from None
    if args.report is not None:
        report = Report(stage="evidence")
        report.context["evidence"] = {"manifest": str(args.out), "reports": manifest["reports"]}
        write_report(report, args.report)
    stages = ", ".join(entry["stage"] for entry in manifest["reports"])
    sys.stderr.write(f"evidence: {len(manifest['reports'])} reports ({stages}) -> {args.out}\n")
    return 0
