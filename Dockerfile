# syntax=docker/dockerfile:1.7
# The reconciler's image: `gitops-tui run` with git, ssh (git over ssh) and kubectl (`kubectl kustomize`).
# Build: docker build -t gitops-tui:0.1.0 .   Versions are build arguments, pinned here:
#   PYTHON_VERSION   the python:<version>-slim-bookworm base of both stages
#   KUBECTL_VERSION  kubectl from dl.k8s.io, checked against its published sha256 (kustomize v5 inside)
#   GIT_VERSION      Debian's git package version ("" = the version bookworm ships)
#   TARGETARCH       set by `docker buildx`; amd64 or arm64
ARG PYTHON_VERSION=3.11.11
ARG KUBECTL_VERSION=v1.32.3

# -- build: the package and its dependencies in a virtual environment ---------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/gitops-tui
COPY pyproject.toml README.md ./
COPY gitops_tui ./gitops_tui
COPY themes ./themes
RUN /opt/gitops-tui/bin/pip install . && /opt/gitops-tui/bin/gitops-tui --help >/dev/null

# -- kubectl: downloaded and verified ----------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS kubectl
ARG KUBECTL_VERSION
ARG TARGETARCH=amd64
RUN python - <<PY
import hashlib, urllib.request
base = "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl"
binary = urllib.request.urlopen(base).read()
expected = urllib.request.urlopen(base + ".sha256").read().decode().split()[0]
assert hashlib.sha256(binary).hexdigest() == expected, "kubectl checksum mismatch"
open("/kubectl", "wb").write(binary)
PY
RUN chmod 0755 /kubectl && /kubectl version --client

# -- runtime -----------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ARG GIT_VERSION=""
RUN apt-get update \
    && apt-get install -y --no-install-recommends "git${GIT_VERSION:+=$GIT_VERSION}" openssh-client tini ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 gitops \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/gitops --create-home gitops \
    && mkdir -p /var/lib/gitops-tui && chown 10001:10001 /var/lib/gitops-tui
COPY --from=build /opt/gitops-tui /opt/gitops-tui
COPY --from=kubectl /kubectl /usr/local/bin/kubectl
ENV PATH=/opt/gitops-tui/bin:$PATH \
    GITOPS_TUI_HOME=/var/lib/gitops-tui \
    HOME=/home/gitops \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /var/lib/gitops-tui
EXPOSE 8080 9292
# tini reaps what git and kubectl leave behind and forwards SIGTERM (the reconciler releases its lease).
ENTRYPOINT ["tini", "--", "gitops-tui", "run"]
CMD ["--health-listen", "0.0.0.0:8080"]
