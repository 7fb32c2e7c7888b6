"""The demo source's git repository: a bare remote (the source's URL) and a working clone to edit and push."""

from __future__ import annotations

from pathlib import Path

from gitops_tui import paths

DEMO_AUTHOR = ("gitops-tui demo", "demo@gitops-tui.invalid")
DEMO_DATE = "2024-01-01T00:00:00+0000"

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


def demo_repo_path(home: Path) -> Path:
    """Return the path of the demo source's git repository under the data directory."""
    return Path(home) / "demo" / "podinfo.git"


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
