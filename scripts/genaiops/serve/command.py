"""`genaiops serve`: argument parsing and the server loop (heavy imports happen in ``run``)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import sys
from pathlib import Path
from typing import Any

DEFAULT_ARTIFACTS_DIR = "/etc/genai/artifacts"
KIND_OPTIONS = (("prompt", "prompt"), ("guardrail", "guardrail"), ("model_config", "model-config"))


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve the promoted artifacts: guardrail, prompt, model config -> completion; /health, /metrics",
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
    from genaiops.serve.app import ServeConfig
    from genaiops.serve.artifacts import ArtifactRef

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
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
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


def run(args: argparse.Namespace) -> int:
    from genaiops.errors import GenaiopsError
    from genaiops.exitcodes import ExitCode

    try:
        config = build_config(args)
        from genaiops.serve.app import Service, make_server

        service = Service(config)
        try:
            server = make_server(service, args.host, args.port, args.verbose)
        except OSError as exc:
            sys.stderr.write(f"genaiops serve: cannot listen on {args.host}:{args.port}: {exc}\n")
            return int(ExitCode.INFRA)
    except GenaiopsError as exc:
        sys.stderr.write(f"genaiops serve: {exc.message}\n" + (f"hint: {exc.hint}\n" if exc.hint else ""))
        return int(exc.exit_code)
    host, port = server.server_address[:2]
    _, health = service.health()
    sys.stderr.write(
        f"genaiops serve: listening on http://{host}:{port} ({health['status']}: "
        + ", ".join(f"{a['kind']}/{a['id']} {a['status']}" for a in health["artifacts"])
        + ")\n"
    )
    sys.stderr.flush()
    signal.signal(signal.SIGTERM, _stop)  # Kubernetes stops pods with SIGTERM: exit cleanly
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        service.close()
    return int(ExitCode.PASS)
