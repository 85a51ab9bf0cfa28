"""``genaiops serve-llm``: run the local OpenAI-compatible reference server in the foreground."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from genaiops.commands import command_help


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve-llm",
        help=command_help("serve-llm"),
        description="Serve /v1/models, /v1/chat/completions and /v1/embeddings on a loopback address. "
        "Answers come from --responses (cassettes or {prompt, response} JSON Lines), else echo "
        "the last user message. See docs/eval.md.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8089, help="port (default 8089; 0 picks a free one)")
    p.add_argument(
        "--responses",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="cassette or lookup file, or a folder of them (repeatable)",
    )
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME",
        help="also list NAME in /v1/models, as an endpoint that deploys that model would (repeatable; "
        "the answers stay the reference model's)",
    )
    p.add_argument("--latency", type=float, default=0.0, metavar="SECONDS", help="added to every request")
    p.add_argument("--max-concurrency", type=int, default=64, help="requests processed at once; others queue")
    p.add_argument(
        "--fail-first",
        type=int,
        default=0,
        metavar="N",
        help="answer the first N requests with --fail-status",
    )
    p.add_argument("--fail-status", type=int, default=503, choices=(429, 500, 502, 503, 504))
    p.add_argument(
        "--retry-after", type=float, metavar="SECONDS", help="Retry-After header on injected failures"
    )
    p.add_argument(
        "--hang-first", type=int, default=0, metavar="N", help="the next N requests sleep --hang-seconds"
    )
    p.add_argument("--hang-seconds", type=float, default=30.0)
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host (inside a pod)")
    p.add_argument("-v", "--verbose", action="store_true", help="log every request on stderr")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: the server pulls in the metrics stack (rouge_score, nltk, scipy), which would
    # slow down every `genaiops` invocation that builds the parser.
    from genaiops.llm.localserver import ReferenceModel, ReferenceServer, ServerOptions

    model = ReferenceModel()
    for path in args.responses:
        model.load(path)
    options = ServerOptions(
        latency=args.latency,
        max_concurrency=args.max_concurrency,
        fail_first=args.fail_first,
        fail_status=args.fail_status,
        retry_after=args.retry_after,
        hang_first=args.hang_first,
        hang_seconds=args.hang_seconds,
        models=(*ServerOptions.models, *dict.fromkeys(args.model)),
    )
    server = ReferenceServer(
        args.host, args.port, options, model, allow_non_loopback=args.allow_remote, verbose=args.verbose
    )
    sys.stderr.write(
        f"genaiops serve-llm: listening on {server.base_url} "
        f"({len(model.by_key)} cassette responses, {len(model.by_prompt)} prompts)\n"
    )
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
