"""Promotion: the gate on upstream reports, the environment snapshot, GitOps publishing, rollback, watch.

Modules: ``gate`` (reports + thresholds), ``snapshot`` (what an environment deploys),
``request`` (merge-request text), ``check`` (the promote stage), ``rollback`` and ``watch``
(commands), ``prometheus`` (the metrics query client).
"""
