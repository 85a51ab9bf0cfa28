"""Allows ``python -m genaiops`` as an alias of the ``genaiops`` console script."""

from genaiops.cli import run

raise SystemExit(run())
