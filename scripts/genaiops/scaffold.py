"""``genaiops init``: write the answer-derived glue of a team repository from its settings.

Copier runs this module as a post-generation task with copier's own interpreter
(``PYTHONPATH=scripts python -m genaiops.scaffold --answers .copier-answers.yml``), so it imports
only the standard library and PyYAML at module level (plus ``genaiops.kinds``, itself
standard-library only), and jinja2 when it renders (``genaiops --help`` lists this command without it).

Settings come from ``genaiops.yaml`` when it exists (the team's source of truth), otherwise from
the copier answers (missing answers take the defaults below). Two sorts of files are written:

* *generated* files (Argo CD bootstrap, platform overlays) are derived entirely from the
  settings: written when missing, reported when they differ, rewritten by ``--force``;
* *seeded* files (``genaiops.yaml``, the model catalog, ``environments/<env>/*``) are written
  once and then belong to the team and to ``genaiops promote``: never rewritten, only checked
  for the facts that must agree with the settings.

``--check`` writes nothing and exits 1 when anything is missing, differs or is left over from a
removed environment. Exit 2 means the settings themselves are invalid.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from genaiops.commands import command_help
from genaiops.kinds import BY_NAME

if TYPE_CHECKING:
    import jinja2

SETTINGS_FILE = "genaiops.yaml"
ANSWERS_FILE = ".copier-answers.yml"
IN_CLUSTER = "https://kubernetes.default.svc"
TEMPLATES = Path(__file__).with_name("scaffold_templates")
DEFAULT_ANSWERS: dict[str, Any] = {
    "project_name": "genai-platform",
    "team_name": "ml-platform",
    "repo_url": "https://git.example.com/ml-platform/genai-platform.git",
    "default_branch": "main",
    "pipeline_image": "ghcr.io/example/genaiops",
    "pipeline_image_tag": "0.1.0",
    "environments": ["dev", "staging", "prod"],
    "approval_environments": ["prod"],
    "namespace_workflows": "argo",
    "namespace_events": "argo-events",
    "namespace_argocd": "argocd",
    "namespace_pipelines": "genai-pipelines",
    "artifact_kinds": list(BY_NAME),
    "llm_endpoint": "",
    "embedding_endpoint": "",
    "notification_webhook": "",
}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
REPO_URL = re.compile(r"^(https?://\S+|ssh://\S+|file://\S+|git@[^:\s]+:\S+)$")
HTTP_URL = re.compile(r"^https?://[^\s/]+\S*$")
IMAGE = re.compile(r"^[a-z0-9]+([._/:-][a-z0-9]+)*$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
RESERVED_ENVIRONMENTS = frozenset({"base", "bootstrap", "rejected"})
BRANCH = re.compile(r"^(?!/)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]+(?<![/.])$")
# A GitHub-style repository URL: host, then exactly <owner>/<name> (https, ssh:// or scp-like git@).
GITHUB_STYLE_REPO = re.compile(
    r"^(?:https?://[^/\s]+/|ssh://[^/\s]+/|git@[^:\s]+:)"
    r"(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?)/(?P<name>[A-Za-z0-9._-]+?)(?:\.git)?/?$"
)
# The placeholders of platform/events/eventsource-github.yaml, kept when the settings give nothing better.
EVENTS_URL_PLACEHOLDER = "https://genaiops-events.example.com"
REPOSITORY_PLACEHOLDER = ("ml-platform", "genai-platform")

# Least-privilege kind allow-lists of the AppProjects: (API group, kind).
PLATFORM_KINDS: tuple[tuple[str, str], ...] = (
    ("", "ConfigMap"),
    ("", "ServiceAccount"),
    # the built-in artifact store (platform/artifact-store)
    ("", "PersistentVolumeClaim"),
    ("", "Service"),
    ("apps", "Deployment"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("argoproj.io", "WorkflowTemplate"),
    ("argoproj.io", "CronWorkflow"),
    ("argoproj.io", "EventSource"),
    ("argoproj.io", "Sensor"),
    ("argoproj.io", "EventBus"),
)
SERVING_KINDS: tuple[tuple[str, str], ...] = (
    ("", "ConfigMap"),
    ("", "ServiceAccount"),
    ("", "Service"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("apps", "Deployment"),
    ("policy", "PodDisruptionBudget"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("argoproj.io", "Rollout"),
    ("argoproj.io", "AnalysisTemplate"),
)
CLUSTER_KINDS: tuple[tuple[str, str], ...] = (("", "Namespace"),)


class ScaffoldError(Exception):
    """The settings or answers are invalid; carries every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Environment:
    """One deployment environment as the scaffold renders it."""

    name: str
    approval: bool
    namespace: str
    cluster: str
    platform: bool
    """Whether Argo CD deploys a pipelines platform instance for this environment (default true)."""
    pipelines_namespace: str
    """Namespace of this environment's platform instance: ``namespaces.pipelines``, suffixed with
    ``-<env>`` when several environments share a cluster (instances must not collide)."""
    events_url: str = ""
    """Public URL of this instance's GitHub EventSource (its Ingress); empty: the placeholder."""


@dataclass
class Settings:
    """Validated settings: everything the generated files depend on."""

    project: str
    team: str
    repo_url: str
    branch: str
    image: str
    tag: str
    namespaces: dict[str, str]
    kinds: list[str]
    environments: list[Environment]
    llm_endpoint: str = ""
    embedding_endpoint: str = ""
    webhook: str = ""
    source: str = "defaults"
    extra: dict[str, Any] = field(default_factory=dict)


# --- reading settings --------------------------------------------------------------------------


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        parsed = yaml.safe_load(value) if value.strip().startswith("[") else value.split(",")
        value = parsed if isinstance(parsed, list) else [parsed]
    if not isinstance(value, list):
        return [str(value)]
    return [str(item).strip() for item in value if str(item).strip()]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def load_answers(path: Path | None) -> dict[str, Any]:
    """The copier answers (only known keys), with defaults for the missing ones."""
    answers = dict(DEFAULT_ANSWERS)
    if path is None:
        return answers
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScaffoldError([f"answers file {path} does not exist"]) from None
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        raise ScaffoldError([f"answers file {path} is not readable YAML: {exc}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScaffoldError([f"answers file {path} must be a mapping of answers"])
    answers.update({k: v for k, v in data.items() if k in DEFAULT_ANSWERS and v is not None})
    if data.get("approval_environments") is None:  # the default must stay a subset of the environments
        envs = _as_list(answers["environments"])
        answers["approval_environments"] = [e for e in DEFAULT_ANSWERS["approval_environments"] if e in envs]
    return answers


def settings_from_answers(answers: dict[str, Any], source: str = "answers") -> Settings:
    """Validated settings from copier answers."""
    project = _text(answers["project_name"])
    names = _as_list(answers["environments"])
    approval = set(_as_list(answers["approval_environments"]))
    envs = [{"name": n, "approval": n in approval} for n in names]
    problems = [
        f"approval_environments: {a!r} is not one of the environments ({', '.join(names)})"
        for a in sorted(approval - set(names))
    ]
    raw = {
        "project": project,
        "team": _text(answers["team_name"]),
        "repository": {"url": _text(answers["repo_url"]), "branch": _text(answers["default_branch"])},
        "image": {"name": _text(answers["pipeline_image"]), "tag": _text(answers["pipeline_image_tag"])},
        "namespaces": {
            "workflows": _text(answers["namespace_workflows"]),
            "events": _text(answers["namespace_events"]),
            "argocd": _text(answers["namespace_argocd"]),
            "pipelines": _text(answers["namespace_pipelines"]),
        },
        "kinds": _as_list(answers["artifact_kinds"]),
        "environments": envs,
        "endpoints": {
            "llm": _text(answers["llm_endpoint"]),
            "embedding": _text(answers["embedding_endpoint"]),
        },
        "notifications": {"webhook": _text(answers["notification_webhook"])},
    }
    return settings_from_file(raw, source, problems)


def _mapping(data: dict[str, Any], key: str, problems: list[str]) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{key}: must be a mapping")
        return {}
    return value


def settings_from_file(data: Any, source: str = SETTINGS_FILE, problems: list[str] | None = None) -> Settings:
    """Validated settings from the structure of genaiops.yaml; every problem is reported at once."""
    problems = list(problems or [])
    if not isinstance(data, dict):
        raise ScaffoldError([f"{source}: must be a mapping"])
    d = DEFAULT_ANSWERS
    repo, image = _mapping(data, "repository", problems), _mapping(data, "image", problems)
    ns, endpoints = _mapping(data, "namespaces", problems), _mapping(data, "endpoints", problems)
    notifications = _mapping(data, "notifications", problems)
    project = _text(data.get("project", d["project_name"]))
    namespaces = {
        key: _text(ns.get(key, d[f"namespace_{key}"]))
        for key in ("workflows", "events", "argocd", "pipelines")
    }
    kinds = _as_list(data.get("kinds", d["artifact_kinds"]))
    settings = Settings(
        project=project,
        team=_text(data.get("team", d["team_name"])),
        repo_url=_text(repo.get("url", d["repo_url"])),
        branch=_text(repo.get("branch", d["default_branch"])),
        image=_text(image.get("name", d["pipeline_image"])),
        tag=_text(image.get("tag", d["pipeline_image_tag"])),
        namespaces=namespaces,
        kinds=kinds,
        environments=[],
        llm_endpoint=_text(endpoints.get("llm")),
        embedding_endpoint=_text(endpoints.get("embedding")),
        webhook=_text(notifications.get("webhook")),
        source=source,
    )
    for label, value in [
        ("project", project),
        ("team", settings.team),
        *((f"namespaces.{k}", v) for k, v in namespaces.items()),
    ]:
        if not DNS_LABEL.match(value):
            problems.append(
                f"{label}: {value!r} is not a DNS-1123 label (lower-case letters, digits, '-', "
                "at most 63 characters, starting and ending alphanumeric)"
            )
    if not REPO_URL.match(settings.repo_url):
        problems.append(
            f"repository.url: {settings.repo_url!r} is not an https://, ssh://, git@host:path or file:// URL"
        )
    if not BRANCH.match(settings.branch):
        problems.append(f"repository.branch: {settings.branch!r} is not a valid branch name")
    if not IMAGE.match(settings.image):
        problems.append(
            f"image.name: {settings.image!r} is not an image reference (registry/name, lower-case)"
        )
    if not TAG.match(settings.tag):
        problems.append(f"image.tag: {settings.tag!r} is not a valid image tag")
    for label, value in (
        ("endpoints.llm", settings.llm_endpoint),
        ("endpoints.embedding", settings.embedding_endpoint),
        ("notifications.webhook", settings.webhook),
    ):
        if value and not HTTP_URL.match(value):
            problems.append(
                f"{label}: {value!r} is not an http(s) URL (leave it empty for the offline default)"
            )
    unknown = [k for k in kinds if k not in BY_NAME]
    if unknown:
        problems.append(f"kinds: unknown {', '.join(map(repr, unknown))}; known kinds: {', '.join(BY_NAME)}")
    if not kinds:
        problems.append("kinds: include at least one artifact kind")
    if len(set(kinds)) != len(kinds):
        problems.append("kinds: listed more than once")
    settings.kinds = [k for k in BY_NAME if k in kinds]  # canonical order
    settings.environments = _environments(
        data.get("environments"), project, namespaces["pipelines"], problems
    )
    if problems:
        raise ScaffoldError([f"{source}: {p}" for p in problems])
    return settings


def _environments(value: Any, project: str, pipelines: str, problems: list[str]) -> list[Environment]:
    if value is None:
        value = [
            {"name": n, "approval": n in DEFAULT_ANSWERS["approval_environments"]}
            for n in DEFAULT_ANSWERS["environments"]
        ]
    if not isinstance(value, list) or not value:
        problems.append("environments: must be a non-empty list of {name, approval} entries")
        return []
    entries: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        entry = {"name": item} if isinstance(item, str) else item
        if not isinstance(entry, dict):
            problems.append(f"environments[{index}]: must be a mapping with a name")
            continue
        entries.append(entry)
    per_cluster: dict[str, int] = {}
    for entry in entries:
        cluster = _text(entry.get("cluster") or IN_CLUSTER)
        per_cluster[cluster] = per_cluster.get(cluster, 0) + 1
    envs: list[Environment] = []
    for index, entry in enumerate(entries):
        name = _text(entry.get("name"))
        namespace = _text(entry.get("namespace") or f"{project}-{name}")
        cluster = _text(entry.get("cluster") or IN_CLUSTER)
        if not DNS_LABEL.match(name):
            problems.append(f"environments[{index}].name: {name!r} is not a DNS-1123 label")
        elif name in RESERVED_ENVIRONMENTS:
            problems.append(
                f"environments[{index}].name: {name!r} is reserved (environments/{name}/ holds "
                "shared manifests or the rejected versions)"
            )
        if not DNS_LABEL.match(namespace):
            problems.append(
                f"environments[{index}].namespace: {namespace!r} is not a DNS-1123 label "
                "(shorten the project or environment name, or set namespace)"
            )
        if not HTTP_URL.match(cluster):
            problems.append(f"environments[{index}].cluster: {cluster!r} is not a Kubernetes API server URL")
        approval = entry.get("approval", False)
        if not isinstance(approval, bool):
            problems.append(f"environments[{index}].approval: must be true or false")
        platform = entry.get("platform", True)
        if not isinstance(platform, bool):
            problems.append(f"environments[{index}].platform: must be true or false")
        shared = per_cluster.get(cluster, 0) > 1
        default_ns = f"{pipelines}-{name}" if shared else pipelines
        pipelines_ns = _text(entry.get("pipelines_namespace") or default_ns)
        if not DNS_LABEL.match(pipelines_ns):
            problems.append(
                f"environments[{index}].pipelines_namespace: {pipelines_ns!r} is not a DNS-1123 "
                "label (shorten namespaces.pipelines or set pipelines_namespace)"
            )
        events_url = _text(entry.get("events_url"))
        if events_url and not HTTP_URL.match(events_url):
            problems.append(f"environments[{index}].events_url: {events_url!r} is not an http(s) URL")
        envs.append(
            Environment(name, bool(approval), namespace, cluster, bool(platform), pipelines_ns, events_url)
        )
    names = [e.name for e in envs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"environments: {', '.join(duplicates)} listed more than once")
    return envs


def load_settings(root: Path, answers_path: Path | None) -> Settings:
    """genaiops.yaml when it exists, else the answers (or the defaults)."""
    path = root / SETTINGS_FILE
    if path.is_file():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ScaffoldError([f"{SETTINGS_FILE} is not valid YAML: {exc}"]) from None
        return settings_from_file(data or {})
    if answers_path is None and (root / ANSWERS_FILE).is_file():
        answers_path = root / ANSWERS_FILE
    source = answers_path.name if answers_path else "defaults"
    return settings_from_answers(load_answers(answers_path), source)


# --- rendering -----------------------------------------------------------------------------------


def github_repository(url: str) -> tuple[str, str] | None:
    """``(owner, name)`` of a GitHub-style repository URL (``https://host/owner/name(.git)``,
    ``ssh://git@host/owner/name.git``, ``git@host:owner/name.git``); None for any other URL."""
    match = GITHUB_STYLE_REPO.match(url)
    return (match["owner"], match["name"]) if match else None


def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["q"] = json.dumps  # a JSON string is a valid, safely quoted YAML scalar
    return env


@dataclass(frozen=True)
class Output:
    """One file the scaffold produces."""

    path: str
    content: str
    seeded: bool
    """Written once, then owned by the team and by promotions (never rewritten)."""


def render(settings: Settings) -> list[Output]:
    """Every file for ``settings``, in a stable order."""
    jinja = _environment()
    repository = github_repository(settings.repo_url)
    base = {
        "s": settings,
        "kinds": settings.kinds,
        "platform_kinds": PLATFORM_KINDS,
        "serving_kinds": SERVING_KINDS,
        "cluster_kinds": CLUSTER_KINDS,
        "in_cluster": IN_CLUSTER,
        "github_repository": repository or REPOSITORY_PLACEHOLDER,
        "github_parsed": repository is not None,
        "events_url_placeholder": EVENTS_URL_PLACEHOLDER,
    }

    def out(path: str, template: str, seeded: bool, **extra: Any) -> Output:
        return Output(path, jinja.get_template(template).render(**base, **extra), seeded)

    files = [
        out(SETTINGS_FILE, "genaiops.yaml.j2", True),
        # the team's own README (the template's README describes the template, not this repository)
        out("README.md", "team-README.md.j2", True),
        out("artifacts/catalog/models.yaml", "catalog-models.yaml.j2", True),
    ]
    for env in settings.environments:
        files += [
            out(f"environments/{env.name}/kustomization.yaml", "env-kustomization.yaml.j2", True, env=env),
            out(f"environments/{env.name}/settings.yaml", "env-settings.yaml.j2", True, env=env),
            out(f"environments/{env.name}/README.md", "env-README.md.j2", True, env=env),
        ]
    files += [
        out("environments/bootstrap/kustomization.yaml", "bootstrap-kustomization.yaml.j2", False),
        out("environments/bootstrap/root.yaml", "bootstrap-root.yaml.j2", False),
        out("environments/bootstrap/argocd-config.yaml", "bootstrap-argocd-config.yaml.j2", False),
        out("environments/bootstrap/apps/kustomization.yaml", "apps-kustomization.yaml.j2", False),
    ]
    for env in settings.environments:
        files.append(out(f"environments/bootstrap/apps/{env.name}.yaml", "apps-env.yaml.j2", False, env=env))
        files.append(
            out(
                f"platform/overlays/{env.name}/kustomization.yaml",
                "platform-overlay.yaml.j2",
                False,
                env=env,
                first=env == settings.environments[0],
            )
        )
    return files


# --- checking and writing ------------------------------------------------------------------------


def _seeded_drift(root: Path, output: Output, settings: Settings) -> str | None:
    """Facts a seeded file must still agree on with the settings (content is otherwise free)."""
    path = root / output.path
    if not output.path.startswith("environments/"):
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return f"{output.path}: not valid YAML ({exc})" if path.suffix == ".yaml" else None
    env_name = output.path.split("/")[1]
    env = next(e for e in settings.environments if e.name == env_name)
    if output.path.endswith("settings.yaml"):
        if not isinstance(data, dict) or data.get("approval") is not env.approval:
            return f"{output.path}: approval must be {str(env.approval).lower()} as in {SETTINGS_FILE}"
    elif output.path.endswith("kustomization.yaml"):
        resources = data.get("resources") if isinstance(data, dict) else None
        if not isinstance(resources, list) or "../base" not in resources:
            return f"{output.path}: must keep `../base` in resources"
        if data.get("namespace") != env.namespace:
            return (
                f"{output.path}: namespace must be {env.namespace} "
                f"(environments[].namespace in {SETTINGS_FILE})"
            )
    return None


def stale_files(root: Path, settings: Settings) -> list[str]:
    """Generated files left over from environments no longer in the settings."""
    names = {e.name for e in settings.environments}
    stale = [
        p
        for p in sorted((root / "environments/bootstrap/apps").glob("*.yaml"))
        if p.name != "kustomization.yaml" and p.stem not in names
    ]
    stale += [
        p / "kustomization.yaml"
        for p in sorted((root / "platform/overlays").glob("*"))
        if p.is_dir() and p.name not in names and (p / "kustomization.yaml").exists()
    ]
    return [p.relative_to(root).as_posix() for p in stale]


@dataclass
class Outcome:
    """What a run did or found."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)


def apply(root: Path, settings: Settings, check: bool = False, force: bool = False) -> Outcome:
    """Write (or, with ``check``, compare) every output under ``root``."""
    outcome = Outcome()
    for output in render(settings):
        path = root / output.path
        if not path.exists():
            if check:
                outcome.drift.append(f"{output.path}: missing (run `genaiops init`)")
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(output.content, encoding="utf-8")
            outcome.written.append(output.path)
        elif output.seeded:
            problem = _seeded_drift(root, output, settings)
            (outcome.drift.append(problem) if problem else outcome.unchanged.append(output.path))
        elif path.read_text(encoding="utf-8") == output.content:
            outcome.unchanged.append(output.path)
        elif force and not check:
            path.write_text(output.content, encoding="utf-8")
            outcome.written.append(output.path)
        else:
            outcome.drift.append(
                f"{output.path}: differs from what {SETTINGS_FILE} generates "
                "(edit genaiops.yaml, then `genaiops init --force`)"
            )
    outcome.drift += [
        f"{p}: left over from an environment no longer in {SETTINGS_FILE} (delete it)"
        for p in stale_files(root, settings)
    ]
    return outcome


def run(
    root: Path,
    answers: Path | None = None,
    check: bool = False,
    force: bool = False,
    out: Any = sys.stdout,
    err: Any = sys.stderr,
) -> int:
    """The command: 0 in sync / written, 1 drift, 2 invalid settings."""
    try:
        settings = load_settings(root, answers)
        outcome = apply(root, settings, check=check, force=force)
    except ScaffoldError as exc:
        for problem in exc.problems:
            err.write(f"genaiops init: {problem}\n")
        return 2
    for path in outcome.written:
        out.write(f"wrote {path}\n")
    for problem in outcome.drift:
        err.write(f"{'drift' if check else 'kept'}: {problem}\n")
    if check:
        out.write(
            f"genaiops init --check: {len(outcome.unchanged)} files in sync, "
            f"{len(outcome.drift)} drifted "
            f"(settings from {settings.source})\n"
        )
        return 1 if outcome.drift else 0
    out.write(
        f"genaiops init: {len(outcome.written)} written, {len(outcome.unchanged)} unchanged, "
        f"{len(outcome.drift)} kept as edited (settings from {settings.source})\n"
    )
    return 0


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--answers",
        type=Path,
        metavar="FILE",
        help=f"copier answers used when {SETTINGS_FILE} is missing (default: {ANSWERS_FILE} if present)",
    )
    parser.add_argument(
        "--repo", type=Path, default=None, help="repository root (default: the working directory)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="write nothing; exit 1 when files drifted")
    mode.add_argument("--force", action="store_true", help="rewrite generated files that differ")


def _handle(args: argparse.Namespace) -> int:
    root = (args.repo or Path.cwd()).resolve()
    answers = args.answers if args.answers is None or args.answers.is_absolute() else root / args.answers
    return run(root, answers, check=args.check, force=args.force)


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``genaiops init``."""
    p = subparsers.add_parser(
        "init",
        help=command_help("init"),
        description=__doc__.splitlines()[0],
    )
    _options(p)
    p.set_defaults(handler=_handle)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python -m genaiops.scaffold`` (copier's post-generation task)."""
    parser = argparse.ArgumentParser(prog="genaiops.scaffold", description=__doc__.splitlines()[0])
    _options(parser)
    return _handle(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
