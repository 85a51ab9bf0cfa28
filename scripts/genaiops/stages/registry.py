"""Which check runs for each (stage, artifact kind): ``module:function`` names, imported lazily.

A check has the signature ``check(artifact: Artifact, result: ArtifactResult, ctx: StageContext)
-> None`` and adds findings and metrics to ``result``. A stage with no entry for a kind is not
implemented for it: the CLI then exits 2 instead of pretending to pass.
"""

from __future__ import annotations

STAGES = ("lint", "validate", "eval", "promote")

CHECKS: dict[str, dict[str, str]] = {
    "lint": {
        "model-config": "genaiops.lint.model_config:check",
        "prompt": "genaiops.lint.prompt:check",
        "guardrail": "genaiops.lint.guardrail:check",
        "rag": "genaiops.lint.rag:check",
    },
    "validate": {
        "prompt": "genaiops.validate.prompt:check",
        "model-config": "genaiops.validate.model_config:check",
        "guardrail": "genaiops.validate.guardrail:check",
        "rag": "genaiops.validate.rag:check",
    },
    "eval": {
        "prompt": "genaiops.evaluate.prompt:check",
        "rag": "genaiops.evaluate.rag:check",
        "guardrail": "genaiops.evaluate.guardrail:check",
        "model-config": "genaiops.evaluate.model_config:check",
    },
    "promote": {  # one mechanism for every kind (genaiops.promote.check)
        "prompt": "genaiops.promote.check:check",
        "model-config": "genaiops.promote.check:check",
        "rag": "genaiops.promote.check:check",
        "guardrail": "genaiops.promote.check:check",
    },
}
