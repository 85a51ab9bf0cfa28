"""genaiops: the CI/CD stages for GenAI artifacts (lint, validate, eval, promote) and their CLI.

The same code runs in a pre-commit hook, on a laptop and in an Argo Workflows step container;
Argo only orchestrates. See ``genaiops --help`` and docs/cli.md.
"""

__version__ = "0.1.0"
