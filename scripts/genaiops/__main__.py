"""Allows ``python -m genaiops`` as an alias of the ``genaiops`` console script."""

from genaiops.cli import main

raise SystemExit(main())
