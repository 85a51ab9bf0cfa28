"""The kind node image, made without a registry: what ``kind build node-image`` does, from local parts.

A Debian root filesystem with systemd, containerd, runc and the CNI plugins; kind's own base-image files
(``images/base/files`` of the pinned kind module) laid in as kind's Dockerfile does; kubelet, kubeadm and
kubectl built from the pinned Kubernetes; a static ptp CNI configuration (kind's kindnet image cannot be
pulled, so the cluster is created with ``disableDefaultCNI`` and this single-node network); kind's default
storage (rancher's local-path-provisioner, the upstream manifest from its pinned module); and the
control-plane and storage images preloaded into the node's containerd as kind's image importer does.
The result is an ordinary image tag passed to ``kind create cluster --image``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from genaiops import pins
from genaiops_e2e import cache, catalog, gobuild, images
from genaiops_e2e.proc import log, run

NODE_PACKAGES = (
    "systemd",
    "systemd-sysv",
    "containerd",
    "runc",
    "containernetworking-plugins",
    "iptables",
    "iproute2",
    "util-linux",
    "mount",
    "kmod",
    "procps",
    "jq",
    "libseccomp2",
    "ca-certificates",
    "conntrack",
    "ethtool",
    "pigz",
    "e2fsprogs",
)
POD_SUBNET = "10.244.0.0/16"
NODE_POD_RANGE = "10.244.0.0/24"
"""The one node's pod addresses (a single-node cluster needs no per-node allocation)."""

CNI_CONFIG = {
    "cniVersion": "0.4.0",
    "name": "genaiops-e2e",
    "plugins": [
        {
            "type": "ptp",
            "ipMasq": True,
            "mtu": 1500,
            "ipam": {
                "type": "host-local",
                "ranges": [[{"subnet": NODE_POD_RANGE}]],
                "routes": [{"dst": "0.0.0.0/0"}],
            },
        },
        {"type": "portmap", "capabilities": {"portMappings": True}},
    ],
}


def storage_manifest(env: dict[str, str]) -> str:
    """rancher's local-path-storage.yaml (what kind installs), with the images this harness provides and the
    StorageClass marked default as kind does."""
    workdir = cache.cache_root() / "gowork" / "local-path"
    workdir.mkdir(parents=True, exist_ok=True)
    source = (
        gobuild.module_dir(pins.LOCAL_PATH_PROVISIONER.spec, workdir) / "deploy" / "local-path-storage.yaml"
    )
    docs = [doc for doc in yaml.safe_load_all(source.read_text()) if doc]
    helper = catalog.python_base(env)
    for doc in docs:
        if doc["kind"] == "Deployment":
            for container in doc["spec"]["template"]["spec"]["containers"]:
                container["image"] = catalog.local_path_provisioner().ref
        elif doc["kind"] == "StorageClass":
            doc["metadata"].setdefault("annotations", {})["storageclass.kubernetes.io/is-default-class"] = (
                "true"
            )
        elif doc["kind"] == "ConfigMap" and "helperPod.yaml" in doc.get("data", {}):
            pod = yaml.safe_load(doc["data"]["helperPod.yaml"])
            for container in pod["spec"]["containers"]:
                container["image"] = helper
            doc["data"]["helperPod.yaml"] = yaml.safe_dump(pod, sort_keys=False)
    return yaml.safe_dump_all(docs, sort_keys=False)


def _kind_base_files() -> Path:
    workdir = cache.cache_root() / "gowork" / "kind-files"
    workdir.mkdir(parents=True, exist_ok=True)
    return gobuild.module_dir(pins.KIND.spec, workdir) / "images" / "base" / "files"


def _base_image(env: dict[str, str]) -> images.Image:
    """Everything but the preloaded images (an ordinary docker build on the Debian root filesystem)."""
    k8s = gobuild.build_binaries(gobuild.KUBERNETES)
    staged = cache.cache_root() / "gowork" / "node-files"
    if staged.exists():
        shutil.rmtree(staged)
    (staged / "kind").mkdir(parents=True)
    (staged / "kind" / "version").write_text(pins.KUBERNETES.version + "\n")
    (staged / "kind" / "manifests").mkdir()
    (staged / "kind" / "manifests" / "default-storage.yaml").write_text(storage_manifest(env))
    (staged / "cni").mkdir()
    (staged / "cni" / "10-genaiops-e2e.conflist").write_text(json.dumps(CNI_CONFIG, indent=2))
    files = {
        "/": _kind_base_files(),
        "/kind/version": staged / "kind" / "version",
        "/kind/manifests/": staged / "kind" / "manifests",
        "/etc/cni/net.d/": staged / "cni",
        **{f"/usr/bin/{name}": k8s / name for name in ("kubelet", "kubeadm", "kubectl")},
    }
    sandbox = f"registry.k8s.io/pause:{pins.PAUSE_VERSION}"
    run_lines = (
        # kind's units and scripts expect /usr/local paths and /opt/cni/bin; Debian installs to /usr
        "RUN ln -sf /usr/bin/containerd /usr/local/bin/containerd"
        " && mkdir -p /opt/cni/bin && ln -sf /usr/lib/cni/* /opt/cni/bin/"
        " && ln -sf /usr/lib/systemd/systemd /sbin/init"
        " && chmod 755 /kind /kind/bin /usr/local/bin/entrypoint /kind/bin/*.sh",
        # the pause image we preload; and no oom_score_adj below the caller's (these VMs lack
        # CAP_SYS_RESOURCE: without it every sandbox fails with "can't get final child's PID from pipe")
        f'RUN sed -i -e \'s#sandbox_image = ".*"#sandbox_image = "{sandbox}"#\''
        " -e 's#restrict_oom_score_adj = false#restrict_oom_score_adj = true#' /etc/containerd/config.toml",
        "RUN ctr oci spec"
        " | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + "
        '{"path": "/kind/bin/mount-product-files.sh"}\''
        " | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json",
        "RUN find /lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete"
        " && rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/*"
        " /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev*"
        " /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*"
        " && echo ReadKMsg=no >> /etc/systemd/journald.conf"
        " && systemctl enable kubelet.service containerd.service undo-mount-hacks.service"
        " && systemctl mask systemd-binfmt.service"
        " && mkdir -p /etc/kubernetes/manifests && rm -f /etc/machine-id",
        "ENV container=docker",
        "STOPSIGNAL SIGRTMIN+3",
    )
    return images.Image(
        f"{images.LOCAL_PREFIX}/kind-node-base:{pins.KUBERNETES.version}",
        files=files,
        user="0:0",
        debian_packages=NODE_PACKAGES,
        run_lines=run_lines,
        entrypoint=("/usr/local/bin/entrypoint", "/sbin/init"),
    )


def upstream_node_image() -> str:
    """kind's published node image for the pinned Kubernetes."""
    return f"kindest/node:{pins.KUBERNETES.version}"


def node_image(env: dict[str, str]) -> str:
    """kind's node image where it can be pulled; else one built here with the control-plane images
    preloaded (once per content key)."""
    if images.pull(upstream_node_image(), env):
        return upstream_node_image()
    base = _base_image(env)
    preload = [
        images.build(image, env) for image in (*catalog.control_plane(), catalog.local_path_provisioner())
    ]
    preload.append(catalog.python_base(env))  # the local-path helper pod's image
    key = cache.content_key(base.key(), *(f"{ref}={images.image_id(ref, env)}" for ref in preload))
    ref = f"{images.LOCAL_PREFIX}/kind-node:{pins.KUBERNETES.version}-{key}"
    if images.image_key(ref, env) is not None:
        return ref
    images.build(base, env)
    log(f"preloading {len(preload)} images into the node's containerd")
    with cache.scratch("node-") as scratch:
        archive = images.save(preload, scratch / "images.tar", env)
        name = f"genaiops-e2e-preload-{key}"
        run(["docker", "rm", "-f", name], env=env, check=False, quiet=True, capture=True)
        run(
            [
                "docker",
                "run",
                "-d",
                "--init",
                "--name",
                name,
                "--entrypoint=sleep",
                "--security-opt",
                "seccomp=unconfined",
                base.ref,
                "infinity",
            ],
            env=env,
            capture=True,
        )

        def in_container(command: list[str], stdin: bytes | None = None) -> None:
            flags = ["-i"] if stdin is not None else []
            run(["docker", "exec", *flags, name, *command], env=env, input_bytes=stdin, timeout=900)

        try:
            in_container(["bash", "-c", "nohup containerd >/dev/null 2>&1 &"])
            in_container(["bash", "-c", "until ctr version >/dev/null 2>&1; do sleep 0.2; done"])
            import_all = ["images", "import", "--all-platforms", "--no-unpack", "--digests", "-"]
            in_container(["ctr", "-n", "k8s.io", *import_all], stdin=archive.read_bytes())
            in_container(["pkill", "containerd"])
            in_container(["bash", "-c", "while pgrep -x containerd >/dev/null; do sleep 0.2; done"])
            run(
                [
                    "docker",
                    "commit",
                    "--change",
                    'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]',
                    "--change",
                    "CMD []",
                    "--change",
                    f'LABEL {images.KEY_LABEL}="{key}"',
                    name,
                    ref,
                ],
                env=env,
                capture=True,
            )
        finally:
            run(["docker", "rm", "-f", name], env=env, check=False, quiet=True, capture=True)
    return ref
