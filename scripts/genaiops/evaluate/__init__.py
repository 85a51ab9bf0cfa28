"""Per-kind eval checks, built on ``genaiops.llm`` (responses), ``genaiops.metrics`` (scores and the
baseline comparison) and ``genaiops.scorecard`` (the result promotion consumes). ``session`` holds what
every kind shares; one module per kind specialises. See docs/eval.md.
"""
