"""Promotion: the reports gate, the environment snapshot, GitOps publishing, retirement, rollback, watch.

Modules: ``gate`` (reports + thresholds), ``snapshot`` (what an environment deploys),
``request`` (merge-request text), ``check`` (the promote stage), ``deploy`` (publishing an edit),
``retire`` (removing deleted artifacts) with ``active`` (what the serving workloads name as active),
``run`` (the promote command: promotions, retirements, status file), ``rollback`` and ``watch``
(commands), ``prometheus`` (the metrics query client).
"""
