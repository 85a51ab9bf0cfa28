"""The manifest validation harness: pinned schemas, kustomize builds, kubeconform, per-kind tally.

``pins`` names the upstream versions, ``schemas`` turns them into kubeconform's schema layout,
``build`` runs kustomize like Argo CD, ``sources`` maps a built resource back to the file that
declared it, ``harness`` ties them together and ``command`` is the ``genaiops manifests`` subcommand.
"""
