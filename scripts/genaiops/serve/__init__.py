"""`genaiops serve`: the reference serving workload of an environment (docs/serving.md).

It loads the promoted artifacts from their mounted ConfigMaps (``artifacts``), applies the active
guardrail policy, renders the active prompt with the active model config, calls the configured
OpenAI-compatible endpoint (``app``) and exports Prometheus metrics per artifact version (``metrics``).
The command module (``command``) imports nothing heavy, so ``genaiops --help`` stays fast.
"""
