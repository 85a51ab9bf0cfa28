"""`genaiops notify`: tell people how a pipeline ended (team webhook, pull-request comment).

Runs as an ordinary container step at the end of every workflow. (Argo's HTTP templates would need the
Argo agent pod, which mounts a long-lived service-account token Secret that Kubernetes no longer creates
and reads header secrets through the API.) The webhook gets Slack-compatible JSON ``{text, workflow,
status}``; a pull request gets the Markdown summary as a comment through the GitHub REST API, with the
``Authorization`` header value from ``$GENAIOPS_GITHUB_AUTHORIZATION`` (``Bearer <token>``, mapped from a
Secret; never printed). The summary is ``--summary`` followed by the ``*.md`` scorecards of
``--summary-dir``. With ``--comment-key`` a pull request keeps one comment per key: the body starts with
the hidden marker ``<!-- genaiops:KEY -->`` and the newest comment carrying it is updated in place; if the
comments cannot be listed nothing is posted (a second comment would break that promise).
Notifications are best effort: an unreachable target or a 5xx/429 is retried a few times with backoff,
then given up with a warning; a pipeline never fails because a webhook is down.
Exit codes: 0 (delivered, skipped or given up: the log says which), 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from genaiops.commands import command_help
from genaiops.exitcodes import ExitCode

AUTH_ENV = "GENAIOPS_GITHUB_AUTHORIZATION"
TIMEOUT_S = 20.0
ATTEMPTS = 3
BACKOFF_S = 2.0
MAX_SUMMARY = 60_000
"""GitHub refuses comments above 65,536 characters; the summary is cut below that with a note."""
PER_PAGE = 100
MAX_PAGES = 10
"""Comments listed when looking for the marked one: 10 pages of 100 (a longer thread is cut, with a note)."""
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
NO_SCORECARD = "_No scorecard was produced._"
"""Added for an empty or missing --summary-dir: a run that stopped at lint or validate has none."""


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "notify",
        help=command_help("notify"),
        description="Post the outcome of a pipeline run: JSON {text, workflow, status} to --webhook-url, and "
        "the summary as a comment on --repository's pull request --pr-number (GitHub API, authorization "
        f"from ${AUTH_ENV}). An empty target is skipped; delivery is best effort (exit 0 unless misused).",
    )
    p.add_argument("--status", required=True, help="the outcome (e.g. Succeeded, Failed)")
    p.add_argument("--summary", default="", help="Markdown text: scorecard or failed steps")
    p.add_argument(
        "--summary-dir",
        default="",
        metavar="DIR",
        help="append every *.md file directly in DIR (by file name) to the summary; "
        "a missing or empty DIR adds a line saying no scorecard was produced (empty: off)",
    )
    p.add_argument("--workflow", default="", help="the workflow's name")
    p.add_argument("--webhook-url", default="", help="team webhook (empty: skip)")
    p.add_argument("--repository", default="", help="owner/name of the pull request's repository")
    p.add_argument("--pr-number", default="", help="pull request number (empty: skip the comment)")
    p.add_argument(
        "--comment-key",
        default="",
        metavar="KEY",
        help="keep one pull-request comment per KEY (letters, digits, - and _), updated in place on the "
        "next run: marked <!-- genaiops:KEY --> (empty: always post a new comment)",
    )
    p.add_argument("--github-api", default="https://api.github.com", help="GitHub API base URL")
    p.set_defaults(handler=run)


def _call(
    method: str, url: str, headers: dict[str, str], what: str, payload: dict[str, Any] | None = None
) -> tuple[ExitCode, Any]:
    """One HTTP call, retrying what is transient (network error, 429, 5xx).

    Returns (PASS, response) for a 2xx, (FAIL, response) when refused (other 4xx, not retried) and
    (INFRA, None) when it never got through.
    """
    import httpx

    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = httpx.request(method, url, json=payload, headers=headers, timeout=TIMEOUT_S)
        except httpx.HTTPError as exc:
            problem = f"cannot reach {url}: {type(exc).__name__}"
        else:
            if 200 <= response.status_code < 300:
                return ExitCode.PASS, response
            if response.status_code != 429 and response.status_code < 500:
                print(
                    f"notify: warning: {what}: {url} refused it with {response.status_code}", file=sys.stderr
                )
                return ExitCode.FAIL, response
            problem = f"{url} answered {response.status_code}"
        if attempt < ATTEMPTS:
            print(f"notify: {what}: {problem}; retrying", file=sys.stderr)
            time.sleep(BACKOFF_S * 2 ** (attempt - 1))
    print(f"notify: warning: {what}: {problem}; gave up after {ATTEMPTS} attempts", file=sys.stderr)
    return ExitCode.INFRA, None


def _deliver(url: str, payload: dict[str, Any], headers: dict[str, str], what: str) -> ExitCode:
    """POST, retrying what is transient; PASS delivered, FAIL refused (4xx), INFRA never got through."""
    code, response = _call("POST", url, headers, what, payload)
    if code == ExitCode.PASS:
        print(f"notify: {what}: delivered ({response.status_code})", file=sys.stderr)
    return code


def _scorecards(directory: Path) -> list[str]:
    """The non-empty ``*.md`` files directly in ``directory``, by file name; unreadable ones are skipped."""
    if not directory.is_dir():
        print(f"notify: no scorecard directory {directory}", file=sys.stderr)
        return []
    try:
        files = sorted(
            (p for p in directory.iterdir() if p.name.endswith(".md") and p.is_file()), key=lambda p: p.name
        )
    except OSError as exc:
        print(f"notify: warning: cannot list {directory}: {exc.strerror or exc}", file=sys.stderr)
        return []
    cards: list[str] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8").strip()
        except UnicodeDecodeError:
            print(f"notify: warning: skipped {path}: not UTF-8", file=sys.stderr)
            continue
        except OSError as exc:
            print(f"notify: warning: skipped {path}: {exc.strerror or exc}", file=sys.stderr)
            continue
        if text:
            cards.append(text)
    return cards


def _summary(text: str, directory: str) -> str:
    """``--summary`` then the ``--summary-dir`` scorecards (or NO_SCORECARD), blank-line separated and cut."""
    summary = text
    if directory:
        parts = [text.strip(), *(_scorecards(Path(directory)) or [NO_SCORECARD])]
        summary = "\n\n".join(part for part in parts if part)
    if len(summary) > MAX_SUMMARY:
        summary = summary[:MAX_SUMMARY] + "\n\n(truncated)"
    return summary


def _same_origin(a: Any, b: Any) -> bool:
    return bool((a.scheme, a.host, a.port) == (b.scheme, b.host, b.port))


def _find_marked(url: str, marker: str, headers: dict[str, str]) -> tuple[bool, int | None]:
    """List the pull request's comments (following Link rel="next", at most MAX_PAGES pages).

    Returns (listed, id of the newest comment whose body contains ``marker`` or None); listed is False
    when the listing failed, and the caller must not post.
    """
    import httpx

    what = "pull-request comment: listing comments"
    origin = httpx.URL(url)
    page_url: str | None = f"{url}?per_page={PER_PAGE}"
    found: list[int] = []
    for _ in range(MAX_PAGES):
        if page_url is None:
            break
        code, response = _call("GET", page_url, headers, what)
        if code != ExitCode.PASS:
            return False, None
        try:
            comments = response.json()
        except ValueError:
            comments = None
        if not isinstance(comments, list):
            print(f"notify: warning: {what}: {page_url} did not answer a JSON list", file=sys.stderr)
            return False, None
        found += [
            c["id"]
            for c in comments
            if isinstance(c, dict)
            and isinstance(c.get("id"), int)
            and isinstance(c.get("body"), str)
            and marker in c["body"]
        ]
        next_url = response.links.get("next", {}).get("url")
        page_url = str(response.url.join(next_url)) if next_url else None
        if page_url is not None and not _same_origin(httpx.URL(page_url), origin):
            print(f"notify: warning: {what}: the next page is on another host ({page_url})", file=sys.stderr)
            return False, None
    if page_url is not None:
        print(
            f"notify: {what}: stopped after {MAX_PAGES} pages; later comments were not searched",
            file=sys.stderr,
        )
    return True, max(found, default=None)


def _comment(
    api: str, repository: str, number: str, body: str, key: str, headers: dict[str, str]
) -> ExitCode:
    """Post the comment; with ``key``, update the newest comment marked with it instead, if there is one."""
    what = "pull-request comment"
    url = f"{api}/repos/{repository}/issues/{number}/comments"
    if not key:
        return _deliver(url, {"body": body}, headers, what)
    marker = f"<!-- genaiops:{key} -->"
    body = f"{marker}\n{body}"
    listed, existing = _find_marked(url, marker, headers)
    if not listed:
        print(
            f"notify: warning: {what}: not posted: the existing comments could not be listed "
            f"(a new comment could duplicate the one marked {key})",
            file=sys.stderr,
        )
        return ExitCode.INFRA
    if existing is not None:
        update_url = f"{api}/repos/{repository}/issues/comments/{existing}"
        code, response = _call("PATCH", update_url, headers, f"{what} {existing}", {"body": body})
        if code == ExitCode.PASS:
            print(f"notify: {what}: updated comment {existing} ({response.status_code})", file=sys.stderr)
            return code
        if response is None or response.status_code != 404:
            return code
        print(f"notify: {what}: comment {existing} is gone; posting a new one", file=sys.stderr)
    return _deliver(url, {"body": body}, headers, what)


def run(args: argparse.Namespace) -> int:
    if args.comment_key and not KEY_PATTERN.fullmatch(args.comment_key):
        print("notify: --comment-key may only hold letters, digits, - and _", file=sys.stderr)
        return int(ExitCode.USAGE)
    summary = _summary(args.summary, args.summary_dir)
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
            headers = {"Authorization": authorization, "Accept": "application/vnd.github+json"}
            body = f"### genaiops `{args.workflow}`: {args.status}\n\n{summary}".strip()
            api = args.github_api.rstrip("/")
            outcomes.append(_comment(api, args.repository, args.pr_number, body, args.comment_key, headers))
    if not outcomes:
        print("notify: no target configured; nothing sent", file=sys.stderr)
    return int(ExitCode.PASS)
