"""Validate checks, one module per artifact kind: semantic checks against the target environment.

Each module declares its rule ids with ``rules.rule`` and exposes a ``check(artifact, result, ctx)``
registered under ``"validate"`` in ``genaiops.stages.registry``. Artifact problems are findings
(exit 1); an unreachable or too slow service raises ``InfraError`` (exit 3). docs/validate.md
describes every check.
"""
