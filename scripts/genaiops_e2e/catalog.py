"""Every container image the end-to-end cluster runs, and how each is made where none can be pulled.

Upstream components keep their upstream names and tags (``registry.k8s.io/...``, ``quay.io/argoproj/...``),
so the manifests are the same whether the image was pulled or built here from the same pinned module. Our
own images are built from their Dockerfiles: the pipeline image from ``platform/image/Dockerfile`` (the
file teams build), the git server from ``tests/e2e/infra/git-server/Dockerfile``; only their base images
are made locally when no registry is reachable.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from genaiops import pins
from genaiops_e2e import cache, gobuild, images
from genaiops_e2e.proc import HarnessError, log, run

PATH_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
PYTHON_PACKAGES = ("ca-certificates", "python3")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def control_plane() -> list[images.Image]:
    """What kubeadm v1.35 and containerd need before the first pod (preloaded into the node image)."""
    k8s = gobuild.build_binaries(gobuild.KUBERNETES)
    version = pins.KUBERNETES.version
    made = [
        images.Image(
            f"registry.k8s.io/{name}:{version}",
            files={f"/usr/local/bin/{name}": k8s / name},
            entrypoint=(f"/usr/local/bin/{name}",),
            user="0:0",
            env=PATH_ENV,
        )
        for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
    ]
    made += [
        images.Image(
            f"registry.k8s.io/etcd:{pins.ETCD.version.lstrip('v')}-0",
            files={"/usr/local/bin/etcd": gobuild.binary(gobuild.ETCD, "etcd")},
            entrypoint=("/usr/local/bin/etcd",),
            user="0:0",
            env=PATH_ENV,
        ),
        # upstream runs as a non-root user with the file capability cap_net_bind_service; a COPY cannot
        # carry file capabilities, so this one runs as root with only NET_BIND_SERVICE (kubeadm's pod
        # drops every other capability)
        images.Image(
            f"registry.k8s.io/coredns/coredns:{pins.COREDNS.version}",
            files={"/coredns": gobuild.binary(gobuild.COREDNS, "coredns")},
            entrypoint=("/coredns",),
            user="0:0",
        ),
        images.Image(
            f"registry.k8s.io/pause:{pins.PAUSE_VERSION}",
            files={"/pause": gobuild.build_pause() / "pause"},
            entrypoint=("/pause",),
        ),
        # kube-proxy programs iptables: it needs the iptables tools, on the node's backend (nft)
        images.Image(
            f"registry.k8s.io/kube-proxy:{version}",
            files={"/usr/local/bin/kube-proxy": k8s / "kube-proxy"},
            entrypoint=("/usr/local/bin/kube-proxy",),
            user="0:0",
            debian_packages=("iptables", "conntrack", "kmod"),
            env=PATH_ENV,
        ),
    ]
    return made


def local_path_provisioner() -> images.Image:
    """kind's default storage provisioner (upstream's image keeps the binary in /usr/bin)."""
    return images.Image(
        f"docker.io/rancher/local-path-provisioner:{pins.LOCAL_PATH_PROVISIONER.version}",
        files={
            "/usr/bin/local-path-provisioner": gobuild.binary(
                gobuild.LOCAL_PATH_PROVISIONER, "local-path-provisioner"
            )
        },
        entrypoint=("local-path-provisioner",),
        user="0:0",
        env=PATH_ENV,
    )


def argo_workflows() -> tuple[images.Image, images.Image]:
    """The workflow controller and the executor (argoexec), both as the non-root user Argo uses (8737)."""
    bins = gobuild.build_binaries(gobuild.ARGO_WORKFLOWS)
    controller, executor = (
        images.Image(
            f"quay.io/argoproj/{name}:{pins.ARGO_WORKFLOWS.version}",
            files={f"/bin/{name}": bins / name},
            entrypoint=(name,),
            user="8737",
            env={"PATH": "/bin"},
        )
        for name in ("workflow-controller", "argoexec")
    )
    return controller, executor


def argo_events() -> images.Image:
    """One binary for the Events controller, EventSource and Sensor pods (as upstream's image)."""
    return images.Image(
        f"quay.io/argoproj/argo-events:{pins.ARGO_EVENTS.version}",
        files={
            "/bin/argo-events": gobuild.binary(gobuild.ARGO_EVENTS, "argo-events"),
            "/etc/ssl/certs/ca-certificates.crt": HOST_CA_BUNDLE,
        },
        entrypoint=("/bin/argo-events",),
        user="9731",
        env={"PATH": "/bin"},
    )


ARGO_CD_USER = 999
"""Upstream's image user (``useradd -u 999 argocd``); the manifests set runAsNonRoot without a runAsUser."""
ARGO_CD_COMMANDS = (
    "argocd-server",
    "argocd-repo-server",
    "argocd-application-controller",
    "argocd-cmp-server",
    "argocd-notifications",
    "argocd-applicationset-controller",
    "argocd-dex",
    "argocd-k8s-auth",
    "argocd-commit-server",
)
"""Names the one argocd binary is linked as (upstream's Dockerfile): each acts as that component."""


def argo_cd() -> images.Image:
    """Every Argo CD component (``quay.io/argoproj/argocd``), laid out as upstream's image.

    The manifests run ``/usr/local/bin/argocd-<component>`` (``args`` only, after upstream's ENTRYPOINT
    tini), the redis ``secret-init`` runs ``argocd`` from PATH, and the repo-server's ``copyutil`` runs
    ``/bin/cp``. The repo-server shells out to ``git`` and to ``kustomize`` found on PATH
    (``util/kustomize``: ``exec.Command("kustomize")`` unless an Application names a binary path), so
    the image carries Debian's git and the pinned kustomize (``pins.KUSTOMIZE``, as ``make setup``
    installs) in ``/usr/local/bin``, as upstream's does. Not in it: helm (Helm sources), git-lfs,
    connect-proxy, and gpg: ``ARGOCD_GPG_ENABLED=false`` turns off the repo-server's GnuPG keyring (it
    would run ``gpg`` at startup) and signature verification, which this image cannot do without gpg.
    The UI is not in the binary (the module holds no built ``ui/dist``): the API and CLI work, the web
    UI answers 500.
    """
    bin_dir = "/usr/local/bin"
    links = " && ".join(f"ln -s {bin_dir}/argocd {bin_dir}/{name}" for name in ARGO_CD_COMMANDS)
    return images.Image(
        f"quay.io/argoproj/argocd:{pins.ARGO_CD.version}",
        files={
            f"{bin_dir}/argocd": gobuild.binary(gobuild.ARGO_CD, "argocd"),
            f"{bin_dir}/kustomize": gobuild.binary(gobuild.KUSTOMIZE, "kustomize"),
        },
        entrypoint=("/usr/bin/tini", "--"),
        user=str(ARGO_CD_USER),
        debian_packages=("ca-certificates", "git", "tini"),
        run_lines=(
            f"RUN groupadd -g {ARGO_CD_USER} argocd"
            f" && useradd -r -u {ARGO_CD_USER} -g argocd -d /home/argocd argocd"
            " && mkdir -p /home/argocd && chown argocd:0 /home/argocd && chmod g=u /home/argocd",
            f"RUN {links}",
            # what upstream's image prepares for the ConfigMaps and Secrets mounted there
            "RUN mkdir -p /etc/ssh /app/config/ssh /app/config/tls /app/config/gpg/source"
            " /app/config/gpg/keys && touch /app/config/ssh/ssh_known_hosts"
            " && ln -s /app/config/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts"
            " && chown argocd /app/config/gpg/keys && chmod 0700 /app/config/gpg/keys",
            "WORKDIR /home/argocd",
        ),
        env={
            **PATH_ENV,
            "HOME": "/home/argocd",
            "USER": "argocd",
            "ARGOCD_GPG_ENABLED": "false",  # no gpg in this image (see above)
        },
    )


def _pinned_module(pin: pins.ModulePin) -> Path:
    """The pinned module's source (from the module cache, downloaded if needed)."""
    workdir = cache.cache_root() / "gowork" / pin.key
    workdir.mkdir(parents=True, exist_ok=True)
    return gobuild.module_dir(pin.spec, workdir)


def argo_cd_redis_ref() -> str:
    """The Redis image Argo CD's ``manifests/install.yaml`` names (v3.2.11:
    ``public.ecr.aws/docker/library/redis:8.2.2-alpine``), read from the pinned module."""
    manifest = _pinned_module(pins.ARGO_CD) / "manifests" / "install.yaml"
    found = set(re.findall(r"^\s*image:\s*(\S+/redis:\S+)\s*$", manifest.read_text(), re.MULTILINE))
    if len(found) != 1:
        raise HarnessError(f"{manifest}: expected one redis image, found {sorted(found) or 'none'}")
    return found.pop()


def argo_cd_redis() -> images.Image:
    """A STAND-IN for Argo CD's Redis cache, under the name its manifests use: Debian's ``redis-server``
    package (Redis 7.0 in bookworm), not the upstream image (``redis:8.2.2-alpine`` for v3.2.11), which is
    not on the Go module proxy. The label ``genaiops.e2e/standin`` says so in the engine.

    Argo CD uses Redis as a cache only (no persistence: the manifest passes ``--save "" --appendonly no
    --requirepass $(REDIS_PASSWORD)`` as ``args``), so the entrypoint is ``redis-server`` and the
    arguments follow it. ``--protected-mode no`` is the upstream image's compiled-in default (it patches
    Redis so, as ports are only reachable where published); the pod runs as 999, upstream's redis user.
    """
    ref = argo_cd_redis_ref()
    return images.Image(
        ref,
        entrypoint=("/usr/bin/redis-server", "--protected-mode", "no"),
        user="999:999",
        debian_packages=("redis-server",),
        run_lines=(
            f'LABEL genaiops.e2e/standin="Debian {pins.DEBIAN_SUITE} redis-server package,'
            f' not the upstream {ref} image"',
        ),
        env=PATH_ENV,
    )


ARGO_ROLLOUTS_USER = 999
"""Upstream's image user; the manifests set runAsNonRoot without a runAsUser, so it must be numeric."""


def argo_rollouts_manifest_image() -> str:
    """The controller image Argo Rollouts' ``manifests/install.yaml`` names, read from the pinned module.

    v1.9.1 names ``quay.io/argoproj/argo-rollouts:latest`` with ``imagePullPolicy: Always`` (its
    namespace-install.yaml too): an install must put the pinned tag (``argo_rollouts().ref``) there and
    a pull policy that uses the loaded image.
    """
    manifest = _pinned_module(pins.ARGO_ROLLOUTS) / "manifests" / "install.yaml"
    found = set(
        re.findall(r"^[\s-]*image:\s*(\S+/argo-rollouts:\S+)\s*$", manifest.read_text(), re.MULTILINE)
    )
    if len(found) != 1:
        raise HarnessError(f"{manifest}: expected one argo-rollouts image, found {sorted(found) or 'none'}")
    return found.pop()


def argo_rollouts() -> images.Image:
    """The Argo Rollouts controller under the name its manifests use, tagged as upstream tags the release
    (``quay.io/argoproj/argo-rollouts:v1.9.1``), laid out as upstream's image: the controller is the
    ENTRYPOINT (the manifests give no command and no args), user 999, WORKDIR /home/argo-rollouts (the
    manifests mount emptyDirs at ``/home/argo-rollouts/plugin-bin`` and ``/tmp``). Upstream builds on
    distroless static; this one on a Debian root filesystem with ca-certificates.
    """
    name = argo_rollouts_manifest_image().rsplit(":", 1)[0]
    return images.Image(
        f"{name}:{pins.ARGO_ROLLOUTS.version}",
        files={"/bin/rollouts-controller": gobuild.binary(gobuild.ARGO_ROLLOUTS, "rollouts-controller")},
        entrypoint=("/bin/rollouts-controller",),
        user=str(ARGO_ROLLOUTS_USER),
        debian_packages=("ca-certificates",),
        run_lines=("WORKDIR /home/argo-rollouts",),
        env=PATH_ENV,
    )


PROMETHEUS_USER = 65534
"""Upstream's image user ``nobody`` (busybox's 65534:65534), numeric so runAsNonRoot can check it."""
PROMETHEUS_ARGS = ("--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus")
"""Upstream's image CMD: the arguments the server runs with when a pod gives none."""


def prometheus() -> images.Image:
    """The Prometheus server (``quay.io/prometheus/prometheus``), laid out as upstream's image:
    ``/bin/prometheus`` (the ENTRYPOINT) and ``/bin/promtool``, the example configuration at
    ``/etc/prometheus/prometheus.yml`` (it scrapes Prometheus itself), LICENSE and NOTICE, the data
    folder ``/prometheus`` (the WORKDIR) writable by the user, which is 65534 as upstream's ``nobody``.

    The binaries have only Kubernetes service discovery (``gobuild.PROMETHEUS``) and no embedded web UI:
    the HTTP API (``/api/v1/query``, ``/-/ready``) works, the UI pages do not. Upstream builds on busybox;
    this one on a Debian root filesystem with ca-certificates. Not carried over: ``VOLUME /prometheus``
    (a pod mounts what it needs there).
    """
    bins = gobuild.build_binaries(gobuild.PROMETHEUS)
    source = _pinned_module(pins.PROMETHEUS)
    user = f"{PROMETHEUS_USER}:{PROMETHEUS_USER}"
    return images.Image(
        f"quay.io/prometheus/prometheus:v{gobuild.PROMETHEUS_RELEASE}",
        files={
            "/bin/prometheus": bins / "prometheus",
            "/bin/promtool": bins / "promtool",
            "/etc/prometheus/prometheus.yml": source / "documentation" / "examples" / "prometheus.yml",
            "/LICENSE": source / "LICENSE",
            "/NOTICE": source / "NOTICE",
        },
        entrypoint=("/bin/prometheus",),
        user=user,
        debian_packages=("ca-certificates",),
        run_lines=(
            f"RUN mkdir -p /prometheus && chown -R {user} /etc/prometheus /prometheus"
            " && chmod g+w /prometheus",
            "WORKDIR /prometheus",
            f"CMD {json.dumps(list(PROMETHEUS_ARGS))}",
        ),
        env=PATH_ENV,
    )


def nats_server() -> images.Image:
    """The EventBus's JetStream server, at ``/nats-server`` (the start command Argo Events configures)."""
    version = pins.NATS_SERVER.version.lstrip("v")
    return images.Image(
        f"docker.io/library/nats:{version}",
        files={"/nats-server": gobuild.binary(gobuild.NATS_SERVER, "nats-server")},
        entrypoint=("/nats-server",),
    )


NATS_STANDIN = Path(__file__).with_name("nats_standin.py")


def nats_standins(env: dict[str, str]) -> dict[str, str]:
    """The EventBus side containers (config reloader, metrics exporter): stand-ins (``nats_standin.py``),
    because their sources are not on the Go module proxy. Only used where no registry is reachable."""
    made = {}
    for role in ("reloader", "metrics"):
        image = images.Image(
            f"{images.LOCAL_PREFIX}/nats-{role}-standin:{pins.NATS_SERVER.version.lstrip('v')}",
            files={"/standin/nats_standin.py": NATS_STANDIN},
            entrypoint=("python3", "/standin/nats_standin.py", role),
            user="1000:1000",
            debian_packages=PYTHON_PACKAGES,
            env={**PATH_ENV, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        made[f"nats-{role}"] = images.build(image, env)
    return made


def versitygw() -> images.Image:
    """The S3-compatible artifact store (the manifests name the binary, so no entrypoint script is needed)."""
    return images.Image(
        f"ghcr.io/versity/versitygw:{pins.VERSITYGW.version}",
        files={"/usr/local/bin/versitygw": gobuild.binary(gobuild.VERSITYGW, "versitygw")},
        entrypoint=("/usr/local/bin/versitygw",),
        env=PATH_ENV,
    )


def cosign() -> images.Image:
    """cosign where the sign templates expect it (ko images put the binary in /ko-app, on PATH)."""
    return images.Image(
        f"ghcr.io/sigstore/cosign/cosign:{pins.COSIGN.version}",
        files={"/ko-app/cosign": gobuild.binary(gobuild.COSIGN, "cosign")},
        entrypoint=("/ko-app/cosign",),
        env={"PATH": "/ko-app:/usr/local/bin:/usr/bin:/bin"},
    )


def python_base(env: dict[str, str]) -> str:
    """A stand-in for ``python:<version>-slim-bookworm``: Debian's Python with the host's CA trust.

    The CA bundle of the host goes in so that builds on machines behind a TLS-inspecting proxy can reach
    the package index (the same trust the host's own uv uses); ``/usr/local/bin/python3`` is where the
    official image keeps Python, which the Dockerfile names.
    """
    staged = cache.cache_root() / "gowork" / "python-base"
    staged.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HOST_CA_BUNDLE, staged / "ca-certificates.crt")
    image = images.Image(
        f"{images.LOCAL_PREFIX}/python:3-{pins.DEBIAN_SUITE}",
        files={"/etc/ssl/certs/ca-certificates.crt": staged / "ca-certificates.crt"},
        user="0:0",
        debian_packages=PYTHON_PACKAGES,
        run_lines=(
            "RUN ln -sf /usr/bin/python3 /usr/local/bin/python3"
            " && ln -sf /usr/bin/python3 /usr/local/bin/python",
        ),
        env={"SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt", "LANG": "C.UTF-8"},
    )
    return images.build(image, env)


def uv_image(repo: Path, env: dict[str, str]) -> str:
    """A stand-in for ``ghcr.io/astral-sh/uv:<version>``: the same uv binary (its PyPI wheel's) at ``/uv``."""
    tools = Path(os.environ.get("GENAIOPS_TOOLS_DIR", repo / ".tools"))
    uv = tools / "uv" / "bin" / "uv"
    if not uv.exists():
        raise HarnessError(f"{uv} is missing: run `make setup` first")
    version = run([uv, "--version"], capture=True, quiet=True).stdout.decode().split()[1]
    if version != pins.UV_VERSION:
        raise HarnessError(f"{uv} is uv {version}, the pin is {pins.UV_VERSION}: run `make setup`")
    image = images.Image(
        f"{images.LOCAL_PREFIX}/uv:{pins.UV_VERSION}", files={"/uv": uv}, entrypoint=("/uv",)
    )
    return images.build(image, env)


def dockerfile_image(
    ref: str,
    dockerfile: Path,
    context: Path,
    build_args: dict[str, str],
    env: dict[str, str],
    key_files: list[Path],
) -> str:
    """``docker build`` of one of our Dockerfiles, skipped when an image with the same inputs exists."""
    key = cache.content_key(ref, str(sorted(build_args.items())), files=key_files)
    if images.image_key(ref, env) == key:
        return ref
    log(f"building {ref} from {dockerfile}")
    args = [arg for name, value in sorted(build_args.items()) for arg in ("--build-arg", f"{name}={value}")]
    run(
        [
            "docker",
            "build",
            "-f",
            dockerfile,
            "--label",
            f"{images.KEY_LABEL}={key}",
            "-t",
            ref,
            *args,
            context,
        ],
        env=env,
        timeout=2400,
    )
    return ref


def _tracked_files(repo: Path, *paths: str) -> list[Path]:
    """Files of ``paths`` that git tracks or would add (what a build context should depend on)."""
    out = run(
        ["git", "-C", repo, "ls-files", "--cached", "--others", "--exclude-standard", "--", *paths],
        capture=True,
        quiet=True,
    ).stdout.decode()
    return [repo / line for line in out.splitlines() if line and (repo / line).is_file()]


def _dockerfile_bases(dockerfile: Path) -> dict[str, str]:
    """The ``ARG NAME=image`` defaults a Dockerfile builds on."""
    found = re.findall(r"^ARG (\w+_IMAGE)=(\S+)$", dockerfile.read_text(), re.MULTILINE)
    return dict(found)


def _bases_pullable(dockerfile: Path, env: dict[str, str]) -> bool:
    return all(images.pull(ref, env) for ref in _dockerfile_bases(dockerfile).values())


def pipeline_image(repo: Path, ref: str, env: dict[str, str]) -> str:
    """The pipeline image, built from ``platform/image/Dockerfile`` as teams build it: on its own base
    images where they can be pulled, else on locally made stand-ins."""
    dockerfile = repo / "platform/image/Dockerfile"
    build_args: dict[str, str] = {}
    if not _bases_pullable(dockerfile, env):
        build_args = {"PYTHON_IMAGE": python_base(env), "UV_IMAGE": uv_image(repo, env)}
    files = _tracked_files(repo, "platform/image/Dockerfile", "pyproject.toml", "uv.lock", "scripts/genaiops")
    return dockerfile_image(ref, dockerfile, repo, build_args, env, files)


def git_server_image(repo: Path, env: dict[str, str]) -> str:
    """The test git server (git's own smart-HTTP backend behind lighttpd)."""
    folder = repo / "tests/e2e/infra/git-server"
    build_args = {} if _bases_pullable(folder / "Dockerfile", env) else {"BASE_IMAGE": python_base(env)}
    ref = f"{images.LOCAL_PREFIX}/git-server:{cache.content_key(files=list(folder.iterdir()))}"
    return dockerfile_image(ref, folder / "Dockerfile", folder, build_args, env, list(folder.iterdir()))


def for_cluster(repo: Path, pipeline_ref: str, env: dict[str, str]) -> dict[str, str]:
    """Build every image loaded into the cluster after it is up: role -> reference."""
    controller, executor = argo_workflows()
    made = {
        "workflow-controller": images.build(controller, env),
        "argoexec": images.build(executor, env),
        "versitygw": images.build(versitygw(), env),
        "cosign": images.build(cosign(), env),
        "pipeline": pipeline_image(repo, pipeline_ref, env),
        "git-server": git_server_image(repo, env),
        "argo-events": images.build(argo_events(), env),
        "nats": images.build(nats_server(), env),
        "argocd": images.build(argo_cd(), env),
        "argo-rollouts": images.build(argo_rollouts(), env),
        "prometheus": images.build(prometheus(), env),
    }
    if not images.registries_reachable(env):
        made.update(nats_standins(env))
        made["argocd-redis"] = images.build(argo_cd_redis(), env)
    return made
