"""`genaiops notify`: tell people how a pipeline ended (team webhook, pull-request comment).

Runs as an ordinary container step at the end of every workflow. (Argo's HTTP templates would need the
Argo agent pod, which mounts a long-lived service-account token Secret that Kubernetes no longer creates
and reads header secrets through the API.) The webhook gets Slack-compatible JSON ``{text, workflow,
status}``; a pull request gets the Markdown summary as a comment through the GitHub REST API, with the
``Authorization`` header value from ``$GENAIOPS_GITHUB_AUTHORIZATION`` (``Bearer <token>``, mapped from a
Secret; never printed). Notifications are best effort: an unreachable target or a 5xx/429 is retried a few
times with backoff, then given up with a warning; a pipeline never fails because a webhook is down.
Exit codes: 0 (delivered, skipped or given up: the log says which), 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from genaiops.exitcodes import ExitCode

AUTH_ENV = "GENAIOPS_GITHUB_AUTHORIZATION"
TIMEOUT_S = 20.0
ATTEMPTS = 3
BACKOFF_S = 2.0
MAX_SUMMARY = 60_000
"""GitHub refuses comments above 65,536 characters; the summary is cut below that with a note."""


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "notify",
        help="post a pipeline's outcome to the team webhook and/or a pull-request comment",
        description="Post the outcome of a pipeline run: JSON {text, workflow, status} to --webhook-url, and "
        "the summary as a comment on --repository's pull request --pr-number (GitHub API, authorization "
        f"from ${AUTH_ENV}). An empty target is skipped; delivery is best effort (exit 0 unless misused).",
    )
    p.add_argument("--status", required=True, help="the outcome (e.g. Succeeded, Failed)")
    p.add_argument("--summary", default="", help="Markdown text: scorecard or failed steps")
    p.add_argument("--workflow", default="", help="the workflow's name")
    p.add_argument("--webhook-url", default="", help="team webhook (empty: skip)")
    p.add_argument("--repository", default="", help="owner/name of the pull request's repository")
    p.add_argument("--pr-number", default="", help="pull request number (empty: skip the comment)")
    p.add_argument("--github-api", default="https://api.github.com", help="GitHub API base URL")
    p.set_defaults(handler=run)


def _deliver(url: str, payload: dict[str, Any], headers: dict[str, str], what: str) -> ExitCode:
    """POST, retrying what is transient; PASS delivered, FAIL refused (4xx), INFRA never got through."""
    import httpx

    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = httpx.post(url, json=payload, headers=headers, timeout=TIMEOUT_S)
        except httpx.HTTPError as exc:
            problem = f"cannot reach {url}: {type(exc).__name__}"
        else:
            if 200 <= response.status_code < 300:
                print(f"notify: {what}: delivered ({response.status_code})", file=sys.stderr)
                return ExitCode.PASS
            if response.status_code != 429 and response.status_code < 500:
                print(
                    f"notify: warning: {what}: {url} refused it with {response.status_code}", file=sys.stderr
                )
                return ExitCode.FAIL
            problem = f"{url} answered {response.status_code}"
        if attempt < ATTEMPTS:
            print(f"notify: {what}: {problem}; retrying", file=sys.stderr)
            time.sleep(BACKOFF_S * 2 ** (attempt - 1))
    print(f"notify: warning: {what}: {problem}; gave up after {ATTEMPTS} attempts", file=sys.stderr)
    return ExitCode.INFRA


def run(args: argparse.Namespace) -> int:
    summary = args.summary
    if len(summary) > MAX_SUMMARY:
        summary = summary[:MAX_SUMMARY] + "\n\n(truncated)"
    outcomes: list[ExitCode] = []
    if args.webhook_url:
        text = f"genaiops {args.workflow}: {args.status}\n{summary}".strip()
        payload = {"text": text, "workflow": args.workflow, "status": args.status}
        outcomes.append(_deliver(args.webhook_url, payload, {}, "webhook"))
    if args.pr_number and args.repository:
        if "/" not in args.repository or not args.pr_number.isdigit():
            print("notify: --repository must be owner/name and --pr-number a number", file=sys.stderr)
            return int(ExitCode.USAGE)
        authorization = os.environ.get(AUTH_ENV, "")
        if not authorization:
            print(f"notify: pull-request comment skipped: ${AUTH_ENV} is not set", file=sys.stderr)
        else:
            url = f"{args.github_api.rstrip('/')}/repos/{args.repository}/issues/{args.pr_number}/comments"
            headers = {"Authorization": authorization, "Accept": "application/vnd.github+json"}
            body = f"### genaiops `{args.workflow}`: {args.status}\n\n{summary}".strip()
            outcomes.append(_deliver(url, {"body": body}, headers, "pull-request comment"))
    if not outcomes:
        print("notify: no target configured; nothing sent", file=sys.stderr)
    return int(ExitCode.PASS)
