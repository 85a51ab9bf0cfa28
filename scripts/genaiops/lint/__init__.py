"""Lint checks, one module per artifact kind (pure, offline, fast).

Each module declares its rule ids with ``rules.rule`` and exposes a ``check(artifact, result, ctx)``
registered under ``"lint"`` in ``genaiops.stages.registry``. Shared mechanisms live elsewhere:
``genaiops.schemacheck`` (JSON Schema findings), ``genaiops.catalog`` (models), ``genaiops.tokens``
(offline token counting).
"""
