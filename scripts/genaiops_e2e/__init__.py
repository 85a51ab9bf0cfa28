"""The end-to-end harness: a real single-node Kubernetes cluster (kind) with everything the pipelines need.

``python -m genaiops_e2e`` (``make e2e``) builds what no registry can supply here from the pinned
sources (``genaiops.pins``), caches it by version in a user-level folder, brings a kind cluster up,
installs Argo Workflows, an S3 artifact store, a git server and the LLM reference server, applies the
platform as a team would, runs the chainsaw scenarios in ``tests/e2e/`` and tears everything down.

Modules, one job each: ``cache`` (where built things live), ``proc`` (running commands), ``gobuild``
(Go binaries), ``rootfs`` (Debian root filesystems), ``docker`` (the engine), ``images`` (container
images), ``nodeimage`` (the kind node), ``cluster`` (kind), ``kube`` (talking to the API), ``install``
(what runs in the cluster), ``scenarios`` (chainsaw), ``timing`` (phase figures) and ``__main__`` (CLI).
"""
