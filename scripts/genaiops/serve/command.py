"""`genaiops serve`: argument parsing and the server loop (waitress; heavy imports happen in ``run``)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import sys
from pathlib import Path
from typing import Any

from genaiops.commands import command_help

DEFAULT_ARTIFACTS_DIR = "/etc/genai/artifacts"
KIND_OPTIONS = (("prompt", "prompt"), ("guardrail", "guardrail"), ("model_config", "model-config"))


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help=command_help("serve"),
        description="Load the promoted artifacts from their mounted ConfigMaps and serve POST /v1/generate "
        "and POST /v1/chat/completions, GET /health (ready only when every artifact is loaded and valid) "
        "and GET /metrics (Prometheus). See docs/serving.md.",
    )
    p.add_argument(
        "--artifacts-dir",
        type=Path,
        default=Path(os.environ.get("GENAIOPS_ARTIFACTS_DIR", DEFAULT_ARTIFACTS_DIR)),
        help="where the ConfigMaps are mounted as <kind>/<id>/ (default $GENAIOPS_ARTIFACTS_DIR "
        f"or {DEFAULT_ARTIFACTS_DIR})",
    )
    p.add_argument(
        "--prompt",
        default=os.environ.get("GENAIOPS_SERVE_PROMPT") or None,
        metavar="ID",
        help="the active prompt (default $GENAIOPS_SERVE_PROMPT)",
    )
    p.add_argument(
        "--guardrail",
        default=os.environ.get("GENAIOPS_SERVE_GUARDRAIL") or None,
        metavar="ID",
        help="the active guardrail policy (default $GENAIOPS_SERVE_GUARDRAIL)",
    )
    p.add_argument(
        "--model-config",
        default=os.environ.get("GENAIOPS_SERVE_MODEL_CONFIG") or None,
        metavar="ID",
        help="the active model config (default $GENAIOPS_SERVE_MODEL_CONFIG)",
    )
    p.add_argument(
        "--settings",
        type=Path,
        default=os.environ.get("GENAIOPS_SETTINGS_FILE") or None,
        help="the environment's settings.yaml (llm.endpoint, environment)",
    )
    p.add_argument(
        "--upstream",
        default=None,
        metavar="URL",
        help="OpenAI-compatible base URL up to /v1 (default: settings llm.endpoint, then "
        "$GENAIOPS_LLM_BASE_URL)",
    )
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="upstream read timeout")
    p.add_argument(
        "--revision",
        default=os.environ.get("GENAIOPS_REVISION", ""),
        help="label of this pod's revision on every metric (default $GENAIOPS_REVISION)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host (inside a pod)")
    p.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("GENAIOPS_SERVE_THREADS") or 8),
        help="requests handled at once; more wait in the queue (default $GENAIOPS_SERVE_THREADS or 8)",
    )
    p.add_argument(
        "--connection-limit",
        type=int,
        default=100,
        help="open connections at most; further ones wait in the listen backlog (default 100)",
    )
    p.add_argument(
        "--idle-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="close a connection that sends or reads nothing for this long (slow clients; default 30)",
    )
    p.add_argument(
        "--token-env",
        default="GENAIOPS_SERVE_TOKEN",
        metavar="NAME",
        help="environment variable holding the bearer token the POST routes require when it is set "
        "(default GENAIOPS_SERVE_TOKEN; unset or empty: no authentication)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log every request on stderr")
    p.set_defaults(handler=run)


def _settings(path: Path | None) -> dict[str, Any]:
    from genaiops.errors import UsageError

    if path is None:
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"--settings {path}: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"--settings {path}: not a mapping")
    return data


def build_config(args: argparse.Namespace) -> Any:
    """The ServeConfig from the arguments; UsageError for anything unusable."""
    from genaiops.errors import UsageError
    from genaiops.serve.artifacts import ArtifactRef
    from genaiops.serve.service import ServeConfig

    required = []
    for attr, kind in KIND_OPTIONS:
        value = getattr(args, attr)
        if value:
            try:
                required.append(ArtifactRef.parse(f"{kind}/{value}"))
            except ValueError as exc:
                raise UsageError(str(exc)) from None
    if not required:
        raise UsageError(
            "nothing to serve: give --prompt, --guardrail and/or --model-config",
            hint="Or set $GENAIOPS_SERVE_PROMPT, $GENAIOPS_SERVE_GUARDRAIL, $GENAIOPS_SERVE_MODEL_CONFIG.",
        )
    settings = _settings(args.settings)
    llm = settings.get("llm") if isinstance(settings.get("llm"), dict) else {}
    upstream = args.upstream or llm.get("endpoint") or os.environ.get("GENAIOPS_LLM_BASE_URL") or ""
    if not str(upstream).startswith(("http://", "https://")):
        raise UsageError(
            "no OpenAI-compatible endpoint: give --upstream URL, llm.endpoint in --settings or "
            "$GENAIOPS_LLM_BASE_URL",
            hint="e.g. --upstream http://127.0.0.1:8089/v1",
        )
    if args.timeout <= 0 or args.idle_timeout <= 0:
        raise UsageError("--timeout and --idle-timeout must be positive")
    if not 1 <= args.threads <= 256 or not 1 <= args.connection_limit <= 10_000:
        raise UsageError("--threads must be 1-256 and --connection-limit 1-10000")
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    if not loopback and not args.allow_remote:
        raise UsageError(
            f"--host {args.host} is not a loopback address", hint="Pass --allow-remote in a pod."
        )
    return ServeConfig(
        artifacts_dir=args.artifacts_dir,
        required=required,
        upstream=str(upstream).rstrip("/"),
        timeout_s=args.timeout,
        revision=args.revision,
        environment=str(settings.get("environment") or ""),
    )


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def make_server(app: Any, args: argparse.Namespace) -> Any:
    """waitress serving ``app``: bounded threads and connections, body and header limits, idle timeout."""
    import waitress

    from genaiops.serve.app import MAX_BODY_BYTES

    return waitress.create_server(
        app,
        host=args.host,
        port=args.port,
        threads=args.threads,
        connection_limit=args.connection_limit,
        channel_timeout=args.idle_timeout,
        cleanup_interval=max(1, int(args.idle_timeout / 2)),  # how often idle connections are looked for
        max_request_body_size=MAX_BODY_BYTES,
        max_request_header_size=64 * 1024,
        ident="genaiops-serve",
        expose_tracebacks=False,
    )


def run(args: argparse.Namespace) -> int:
    from genaiops.errors import GenaiopsError
    from genaiops.exitcodes import ExitCode

    try:
        config = build_config(args)
        from genaiops.serve.app import ServeApp
        from genaiops.serve.service import Service

        service = Service(config)
        token = os.environ.get(args.token_env) or None
        try:
            server = make_server(ServeApp(service, token, args.verbose), args)
        except OSError as exc:
            sys.stderr.write(f"genaiops serve: cannot listen on {args.host}:{args.port}: {exc}\n")
            return int(ExitCode.INFRA)
    except GenaiopsError as exc:
        sys.stderr.write(f"genaiops serve: {exc.message}\n" + (f"hint: {exc.hint}\n" if exc.hint else ""))
        return int(exc.exit_code)
    _, health = service.health()
    auth = f"bearer token from ${args.token_env}" if token else "no authentication"
    sys.stderr.write(
        f"genaiops serve: listening on http://{server.effective_host}:{server.effective_port} "
        f"({health['status']}: "
        + ", ".join(f"{a['kind']}/{a['id']} {a['status']}" for a in health["artifacts"])
        + f"; {args.threads} threads, {auth})\n"
    )
    sys.stderr.flush()
    signal.signal(signal.SIGTERM, _stop)  # Kubernetes stops pods with SIGTERM: exit cleanly
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        service.close()
    return int(ExitCode.PASS)
