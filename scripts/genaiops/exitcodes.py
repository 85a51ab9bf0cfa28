"""The process exit codes every genaiops command uses (documented in docs/cli.md)."""

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes shared by all stages; only INFRA is worth retrying."""

    PASS = 0
    """Every selected artifact passed."""
    FAIL = 1
    """At least one artifact failed a check (or could not be read): fix the artifact."""
    USAGE = 2
    """The command was called wrongly (unknown option, missing path, unimplemented stage)."""
    INFRA = 3
    """A transient infrastructure error (endpoint down, timeout): the only code to retry."""


def combine(codes: list[ExitCode]) -> ExitCode:
    """Fold per-artifact outcomes into one process exit code.

    A usage error wins, then a failed check (retrying cannot fix it), then an
    infrastructure error; all passes give PASS.
    """
    for code in (ExitCode.USAGE, ExitCode.FAIL, ExitCode.INFRA):
        if code in codes:
            return code
    return ExitCode.PASS
