"""The running e2e installation: addresses and per-run credentials, shared with the scenarios.

Written to ``<run dir>/e2e.json`` (mode 0600, outside the repository) by ``install`` and read by the
scenario helpers (``python -m genaiops_e2e.probe``). Credentials are random per run and never printed.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from genaiops_e2e.proc import SECRETS, HarnessError

SECRET_FIELDS = frozenset(
    {
        "git_token",
        "git_read_token",
        "s3_secret_key",
        "cosign_password",
        "webhook_secret",
        "github_token",
        "pipeline_canary",
    }
)


def _run_dir() -> Path:
    return Path(os.environ.get("GENAIOPS_E2E_RUN_DIR", "/run/genaiops-e2e"))


@dataclass
class State:
    kubeconfig: str
    node_ip: str
    repo: str
    environment: str
    namespace: str
    """The pipelines namespace of ``environment`` (Pod Security ``restricted``)."""
    pipeline_image: str
    git_token: str
    git_user: str
    git_url_cluster: str
    git_url_host: str
    s3_endpoint_host: str
    s3_access_key: str
    s3_secret_key: str
    cosign_password: str
    llm_url: str
    bucket: str
    seed_commit: str = ""
    webhook_secret: str = ""
    """The HMAC secret of the GitHub EventSource (the Secret ``genaiops-github-webhook``)."""
    webhook_url_host: str = ""
    """The EventSource's webhook from the host (an e2e NodePort in front of ``github-eventsource-svc``)."""
    github_token: str = ""
    """The token the HTTP sink's GitHub comments API accepts (the Secret ``genaiops-github-token``)."""
    sink_url_cluster: str = ""
    """The HTTP sink (GitHub API and team webhook stand-in) as the pipelines reach it."""
    sink_url_host: str = ""
    """The HTTP sink from the host (its records at ``/_records``)."""
    git_read_token: str = ""
    """The git server's read-only user's token (the Secret ``genaiops-git-read-credentials``: checkout)."""
    pipeline_canary: str = ""
    """A value only the Secret ``genaiops-pipeline-env`` holds (``E2E_PIPELINE_CANARY``): a fork's pull
    request must never see it."""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        SECRETS.update(getattr(self, name) for name in SECRET_FIELDS)

    @staticmethod
    def path() -> Path:
        return _run_dir() / "e2e.json"

    @property
    def git_url_host_auth(self) -> str:
        """The git server's URL from the host, with this run's credentials in it (never logged)."""
        parts = urlsplit(self.git_url_host)
        netloc = f"{quote(self.git_user)}:{quote(self.git_token)}@{parts.netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    @property
    def git_url_host_reader(self) -> str:
        """The git server's URL from the host with the read-only user's credentials (never logged)."""
        parts = urlsplit(self.git_url_host)
        netloc = f"genaiops-reader:{quote(self.git_read_token)}@{parts.netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    def save(self) -> None:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2))
        path.chmod(0o600)

    @classmethod
    def load(cls) -> State:
        path = cls.path()
        if not path.exists():
            raise HarnessError(f"{path} is missing: bring the cluster up first (python -m genaiops_e2e up)")
        data = json.loads(path.read_text())
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def public(self) -> dict[str, object]:
        """Everything but the credentials."""
        return {k: v for k, v in asdict(self).items() if k not in SECRET_FIELDS}
