"""The guardrail policy engine: CEL rules over a registry of offline guardrail functions.

Modules: ``normalize`` (input canonicalisation), ``pii``/``patterns``/``terms`` (detectors),
``functions`` (the registry conditions call), ``engine`` (policy parsing, compilation, verdicts),
``analysis`` (static checks used by lint), ``suite`` (the curated test-suite format and runner).
"""
