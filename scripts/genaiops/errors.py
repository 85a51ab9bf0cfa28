"""Exception types that map onto exit codes; anything else is an internal error."""

from genaiops.exitcodes import ExitCode


class GenaiopsError(Exception):
    """Base class: carries the exit code and an optional hint for the user."""

    exit_code: ExitCode = ExitCode.FAIL

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(GenaiopsError):
    """The command line or environment is wrong (exit 2)."""

    exit_code = ExitCode.USAGE


class ArtifactError(GenaiopsError):
    """An artifact cannot be processed because of its own content (exit 1)."""

    exit_code = ExitCode.FAIL

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        rule_id: str = "core/unreadable-artifact",
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.rule_id = rule_id
        self.file = file
        self.line = line


class InfraError(GenaiopsError):
    """A service the stage depends on is down or too slow (exit 3, retryable)."""

    exit_code = ExitCode.INFRA
