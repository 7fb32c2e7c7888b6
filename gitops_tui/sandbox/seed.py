"""Registers the sandbox's workload clusters as KubeFedClusters and seeds the demo project."""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitops_tui import paths
from gitops_tui.api import builders, names
from gitops_tui.api.crds import crd_manifests

log = logging.getLogger(__name__)

SEED_MANAGER = "gitops-tui-sandbox"
DEMO_PROJECT = "demo"
DEMO_SOURCE = "podinfo"
DEMO_SECRET = "git-credentials"
DEMO_AUTHOR = ("gitops-tui demo", "demo@gitops-tui.invalid")
DEMO_DATE = "2024-01-01T00:00:00+0000"
SANDBOX_LABEL = "gitops-tui.io/sandbox"

#: The demo source's files in <data>/demo/podinfo.git: plain manifests and a HelmRelease under apps/
#: (the source's path), and the chart it releases under charts/podinfo-frontend.
DEMO_FILES: dict[str, str] = {
    "apps/configmap.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: podinfo-config
  labels:
    app.kubernetes.io/name: podinfo
data:
  PODINFO_UI_MESSAGE: "Deployed by gitops-tui"
  PODINFO_UI_COLOR: "#34577c"
""",
    "apps/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  labels:
    app.kubernetes.io/name: podinfo
spec:
  replicas: 2
  progressDeadlineSeconds: 60
  selector:
    matchLabels:
      app.kubernetes.io/name: podinfo
  template:
    metadata:
      labels:
        app.kubernetes.io/name: podinfo
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.7.1
          ports:
            - name: http
              containerPort: 9898
              protocol: TCP
          envFrom:
            - configMapRef:
                name: podinfo-config
          resources:
            requests:
              cpu: 10m
              memory: 32Mi
""",
    "apps/service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: podinfo
  labels:
    app.kubernetes.io/name: podinfo
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: podinfo
  ports:
    - name: http
      port: 9898
      targetPort: http
      protocol: TCP
""",
    "apps/helmrelease-frontend.yaml": """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: frontend
spec:
  interval: 5m
  chart:
    spec:
      chart: ./charts/podinfo-frontend
      sourceRef:
        kind: GitRepository
        name: podinfo
  values:
    replicaCount: 1
    message: "Released by gitops-tui with Helm"
""",
    "charts/podinfo-frontend/Chart.yaml": """\
apiVersion: v2
name: podinfo-frontend
description: The podinfo front end of the gitops-tui demo
type: application
version: 0.1.0
appVersion: "6.7.1"
""",
    "charts/podinfo-frontend/values.yaml": """\
replicaCount: 1
image:
  repository: ghcr.io/stefanprodan/podinfo
  tag: "6.7.1"
message: "Hello from the podinfo-frontend chart"
color: "#34577c"
""",
    "charts/podinfo-frontend/values.schema.json": """\
{
  "$schema": "https://json-schema.org/draft-07/schema#",
  "type": "object",
  "required": ["replicaCount", "image"],
  "properties": {
    "replicaCount": {"type": "integer", "minimum": 0, "maximum": 10},
    "image": {
      "type": "object",
      "required": ["repository", "tag"],
      "properties": {"repository": {"type": "string"}, "tag": {"type": "string"}}
    },
    "message": {"type": "string"},
    "color": {"type": "string"}
  }
}
""",
    "charts/podinfo-frontend/templates/configmap.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
  labels:
    app.kubernetes.io/name: {{ .Release.Name }}
data:
  PODINFO_UI_MESSAGE: {{ .Values.message | quote }}
  PODINFO_UI_COLOR: {{ .Values.color | quote }}
""",
    "charts/podinfo-frontend/templates/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ .Release.Name }}
    spec:
      containers:
        - name: podinfo
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          ports:
            - name: http
              containerPort: 9898
          envFrom:
            - configMapRef:
                name: {{ .Release.Name }}-config
""",
    "charts/podinfo-frontend/templates/service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/name: {{ .Release.Name }}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {{ .Release.Name }}
  ports:
    - name: http
      port: 9898
      targetPort: http
""",
}


@dataclass(frozen=True)
class ClusterAccess:
    """How to reach one workload cluster: name, URL, bearer token."""

    name: str
    url: str
    token: str


def demo_repo_path(home: Path) -> Path:
    """Return the path of the demo source's git repository under the data directory."""
    return Path(home) / "demo" / "podinfo.git"


def cluster_kubeconfig(access: ClusterAccess, ca_cert: Path) -> str:
    """Return a self-contained kubeconfig (token and CA inline) for one workload cluster."""
    from gitops_tui.sandbox.kubeconfig import KubeconfigEntry, build_kubeconfig

    doc = build_kubeconfig([KubeconfigEntry(access.name, access.url, access.token)], ca_cert, access.name)
    return yaml.safe_dump(doc, sort_keys=False)


def _management(kubeconfig: Path) -> Any:
    from gitops_tui.kube.client import api_client_from_kubeconfig, dynamic_client

    return dynamic_client(api_client_from_kubeconfig(kubeconfig, "management"))


def is_subset(desired: Any, live: Any) -> bool:
    """True when every field of `desired` has the same value in `live` (server defaults ignored)."""
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(is_subset(v, live.get(k)) for k, v in desired.items())
    if isinstance(desired, list):
        return (isinstance(live, list) and len(live) == len(desired)
                and all(is_subset(d, x) for d, x in zip(desired, live)))
    return desired == live


def _apply(dynamic: Any, obj: dict[str, Any], timeout: float = 20.0) -> dict:
    """Server-side apply `obj` unless the live object already matches it (no write, no event).

    Waits (bounded) for a just-created CRD's kind to be served.
    """
    from gitops_tui.kube.apply import UnknownKind, apply_object, get_object

    deadline = time.monotonic() + timeout
    meta = obj["metadata"]
    while True:
        try:
            live = get_object(dynamic, obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
            if live is not None and is_subset(obj, live):
                return live
            return apply_object(dynamic, obj, field_manager=SEED_MANAGER)
        except UnknownKind:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _namespace(name: str, project: str = "") -> dict[str, Any]:
    labels = {"labels": {names.LABEL_PROJECT: project}} if project else {}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, **labels}}


def install_crds(dynamic: Any) -> None:
    """Apply the management CRDs and the system namespaces."""
    for crd in crd_manifests():
        _apply(dynamic, crd)
    for ns in (names.FEDERATION_NAMESPACE, names.SYSTEM_NAMESPACE):
        _apply(dynamic, _namespace(ns))


def register_clusters(kubeconfig: Path, clusters: list[ClusterAccess], ca_cert: Path) -> None:
    """Create or update a kubeconfig Secret and a KubeFedCluster for each workload cluster."""
    dynamic = _management(kubeconfig)
    install_crds(dynamic)
    ca_bundle = base64.b64encode(Path(ca_cert).read_bytes()).decode("ascii")
    for access in clusters:
        secret_name = f"{access.name}-kubeconfig"
        text = cluster_kubeconfig(access, ca_cert)
        _apply(dynamic, {
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": secret_name, "namespace": names.FEDERATION_NAMESPACE,
                         "labels": {SANDBOX_LABEL: "true"}},
            "type": "Opaque",
            "data": {names.KUBECONFIG_SECRET_KEY: base64.b64encode(text.encode()).decode("ascii")},
        })
        cluster = builders.new_kubefed_cluster(access.name, access.url, secret_name,
                                               labels={SANDBOX_LABEL: "true"})
        cluster["spec"]["caBundle"] = ca_bundle
        _apply(dynamic, cluster)
    _forget_removed(dynamic, {c.name for c in clusters})
    log.info("registered clusters %s", ", ".join(c.name for c in clusters))


def _forget_removed(dynamic: Any, keep: set[str]) -> None:
    """Delete the sandbox's registrations of clusters it no longer serves (not attached ones)."""
    from gitops_tui.kube.apply import delete_object, resolver_for

    resource = resolver_for(dynamic).resource(names.KUBEFED_CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER)
    listing = resource.get(namespace=names.FEDERATION_NAMESPACE, label_selector=f"{SANDBOX_LABEL}=true")
    for item in listing.to_dict().get("items") or []:
        name = item["metadata"]["name"]
        if name in keep:
            continue
        delete_object(dynamic, names.KUBEFED_CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, name,
                      names.FEDERATION_NAMESPACE)
        delete_object(dynamic, "v1", "Secret", f"{name}-kubeconfig", names.FEDERATION_NAMESPACE)
        log.info("unregistered cluster %s (no longer in the sandbox)", name)


def demo_work_path(home: Path) -> Path:
    """Return the path of the demo's working clone (edit, commit and `git push` there)."""
    return Path(home) / "demo" / "podinfo"


def make_demo_repo(home: Path) -> Path:
    """Create the demo git repository: a bare remote (the source's URL, branch main, one commit with a fixed
    author and date) and a working clone beside it whose `git push` reaches it. Return the bare repository."""
    import git

    path = demo_repo_path(home)
    if (path / ".git").is_dir():  # a sandbox made before the bare remote: accept pushes to its checked-out main
        try:
            repo = git.Repo(path)
            repo.commit("main")
            with repo.config_writer() as config:
                config.set_value("receive", "denyCurrentBranch", "updateInstead")
            return path
        except (git.BadName, ValueError, git.GitCommandError):
            pass
    elif (path / "HEAD").is_file():
        try:
            git.Repo(path).commit("main")
            _work_clone(home, path)
            return path
        except (git.BadName, ValueError, git.GitCommandError):
            pass
    work = demo_work_path(home)
    work.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(work, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", DEMO_AUTHOR[0])
        config.set_value("user", "email", DEMO_AUTHOR[1])
    for rel, text in DEMO_FILES.items():
        target = work / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    repo.index.add(sorted(DEMO_FILES))
    actor = git.Actor(*DEMO_AUTHOR)
    repo.index.commit("Add podinfo and the podinfo-frontend chart", author=actor, committer=actor,
                      author_date=DEMO_DATE, commit_date=DEMO_DATE)
    path.parent.mkdir(parents=True, exist_ok=True)
    git.Repo.init(path, bare=True, initial_branch="main").close()
    repo.git.push(str(path), "main:main")
    _track(repo, path)
    repo.close()
    paths.make_private(path)  # GitPython writes its index and objects 0644 / 0444 whatever the umask
    paths.make_private(work)
    return path


def _work_clone(home: Path, bare: Path) -> None:
    """Make the working clone of the demo's bare remote when it is missing."""
    import git

    work = demo_work_path(home)
    if (work / ".git").is_dir():
        return
    repo = git.Repo.clone_from(str(bare), str(work), branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", DEMO_AUTHOR[0])
        config.set_value("user", "email", DEMO_AUTHOR[1])
    repo.close()
    paths.make_private(work)


def _track(repo: object, bare: Path) -> None:
    """Make the working clone's main track the bare remote's (a plain `git push` and `git pull` work)."""
    git_cmd = repo.git  # type: ignore[attr-defined]
    git_cmd.remote("add", "origin", str(bare))
    git_cmd.fetch("origin")
    git_cmd.branch("--set-upstream-to=origin/main", "main")


def demo_objects(repo_url: str, clusters: list[str]) -> list[dict[str, Any]]:
    """Return the management objects of the demo project, in apply order."""
    secret = builders.new_federated_secret(
        DEMO_SECRET, DEMO_PROJECT, {"username": b"demo", "password": b"demo-not-a-secret"},
        clusters=clusters)
    repository, kustomization = builders.new_source(
        DEMO_SOURCE, DEMO_PROJECT, repo_url, ref={"branch": "main"}, path="./apps",
        secret_ref=DEMO_SECRET, interval="1m", provider="generic", prune=True, clusters=clusters)
    return [
        builders.new_project(DEMO_PROJECT, clusters, display_name="Demo"),
        _namespace(DEMO_PROJECT, project=DEMO_PROJECT),
        secret,
        repository,
        kustomization,
    ]


def seed_demo(kubeconfig: Path, home: Path, clusters: list[str]) -> None:
    """Create the demo git repository and the demo Project, secret and source."""
    repo = make_demo_repo(home)
    dynamic = _management(kubeconfig)
    for obj in demo_objects(str(repo), clusters):
        _apply(dynamic, obj)
    log.info("seeded the demo project")
