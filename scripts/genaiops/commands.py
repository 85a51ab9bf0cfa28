"""The helper commands beside the stages: which module registers each, and its one-line help.

``genaiops --help`` lists them from here without importing their modules (some import heavy libraries);
running a command imports only its own module, whose ``add_parser(subparsers)`` registers the full parser
(taking its help line from here) and sets ``handler=<callable(args) -> int>``. Add a line to add a command.
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "manifests": (
        "genaiops.manifests.command",
        "kustomize-build platform/ and environments/ and validate with kubeconform -strict",
    ),
    "init": ("genaiops.scaffold", "write genaiops.yaml, environments/, Argo CD bootstrap from the settings"),
    "serve-llm": (
        "genaiops.llm.command",
        "run a local OpenAI-compatible server with a deterministic reference model",
    ),
    "rollback": (
        "genaiops.promote.rollback",
        "re-promote an earlier version of an artifact from the environment's lineage",
    ),
    "reject": (
        "genaiops.promote.reject",
        "mark a version of an artifact as rejected: no environment accepts it again",
    ),
    "evidence": (
        "genaiops.promote.evidence",
        "write the evidence manifest (the reports the gate reads, with their SHA-256) that CI signs",
    ),
    "record-check": (
        "genaiops.promote.checks",
        "record a scheduled check of what an environment deploys; a failed version goes no further",
    ),
    "watch": (
        "genaiops.promote.watch",
        "watch a promoted artifact's error rate and latency; roll back on breach",
    ),
    "serve": (
        "genaiops.serve.command",
        "serve the promoted artifacts: guardrail, prompt, model config -> completion; /health, /metrics",
    ),
    "notify": (
        "genaiops.notify",
        "post a pipeline's outcome to the team webhook and/or a pull-request comment",
    ),
}


def command_help(name: str) -> str:
    """The one-line help of command ``name``."""
    return COMMANDS[name][1]
