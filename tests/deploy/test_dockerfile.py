"""The Dockerfile, read as Docker reads it (no docker here): pinned stages, a non-root user, `gitops-tui run` with git and kubectl."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; continuation lines joined, comments and heredoc bodies dropped."""
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    out: list[tuple[str, str]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        while line.endswith("\\"):
            line = line[:-1] + " " + lines[index].strip()
            index += 1
        word, _, rest = line.strip().partition(" ")
        heredoc = re.search(r"<<-?\s*([A-Z]+)\s*$", rest)
        if heredoc:
            while lines[index].strip() != heredoc.group(1):
                index += 1
            index += 1
        out.append((word.upper(), rest.strip()))
    return out


def stages() -> dict[str, list[tuple[str, str]]]:
    """The instructions of each stage by its name."""
    found: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for word, rest in instructions():
        if word == "FROM":
            name = rest.split()[-1] if " AS " in rest.upper() else str(len(found))
            current = found.setdefault(name, [])
        if current is not None:
            current.append((word, rest))
    return found


def test_multi_stage_on_a_pinned_slim_python() -> None:
    listed = instructions()
    first_from = next(i for i, (word, _) in enumerate(listed) if word == "FROM")
    args = {rest.split("=")[0]: rest.split("=", 1)[1] for word, rest in listed[:first_from] if word == "ARG"}
    args.update({rest.split("=")[0]: rest.split("=", 1)[1] for word, rest in listed if word == "ARG" and "=" in rest
                 and rest.split("=")[0] not in args})
    assert re.fullmatch(r"3\.1[1-9]\.\d+", args["PYTHON_VERSION"] or ""), "Python pinned to a patch release"
    assert re.fullmatch(r"v1\.\d+\.\d+", args["KUBECTL_VERSION"] or ""), "kubectl pinned"
    assert "GIT_VERSION" in args
    built = stages()
    assert list(built) == ["build", "kubectl", "runtime"]
    for name, body in built.items():
        assert body[0][1].startswith("python:${PYTHON_VERSION}-slim"), name


def test_the_runtime_stage_runs_gitops_tui_run_as_a_non_root_user_with_git_and_kubectl() -> None:
    runtime = stages()["runtime"]
    users = [rest for word, rest in runtime if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root"), "the last USER is not root"
    entry = [json.loads(rest) for word, rest in runtime if word == "ENTRYPOINT"]
    assert entry and entry[-1][-2:] == ["gitops-tui", "run"]
    assert entry[-1][0] == "tini", "a real init reaps git's and kubectl's leftovers"
    cmd = json.loads(next(rest for word, rest in runtime if word == "CMD"))
    assert cmd == ["--health-listen", "0.0.0.0:8080"], "the probes' port of the chart"
    run = " ".join(rest for word, rest in runtime if word == "RUN")
    packages = shlex.split(run[run.index("install -y"):].split("&&")[0])
    assert {'git${GIT_VERSION:+=$GIT_VERSION}', "openssh-client", "tini"} <= set(packages)
    copies = [rest for word, rest in runtime if word == "COPY"]
    assert "--from=kubectl /kubectl /usr/local/bin/kubectl" in copies
    assert "--from=build /opt/gitops-tui /opt/gitops-tui" in copies
    kubectl = " ".join(rest for _, rest in stages()["kubectl"])
    assert ".sha256" in (ROOT / "Dockerfile").read_text() and "kubectl version --client" in kubectl


def test_the_build_context_holds_what_the_build_copies_and_nothing_else() -> None:
    patterns = [p for p in (ROOT / ".dockerignore").read_text().splitlines() if p and not p.startswith("#")]

    def sent(path: str) -> bool:
        """Docker's rule: the last matching pattern decides; `!` re-includes."""
        verdict = True
        for pattern in patterns:
            negate = pattern.startswith("!")
            bare = pattern.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, bare) or path.startswith(bare + "/") or fnmatch.fnmatch(path, bare.replace("**/", "")):
                verdict = negate
        return verdict

    build = stages()["build"]
    copied = [rest.split()[0] for word, rest in build if word == "COPY"] + \
             [part for word, rest in build if word == "COPY" for part in rest.split()[:-1]]
    for source in set(copied):
        assert (ROOT / source).exists(), source
        assert sent(source), f"{source} is copied but .dockerignore leaves it out"
    for private in (".venv", "tests/conftest.py", ".git", "bench", "gitops_tui/__pycache__"):
        assert not sent(private), f"{private} would be sent to the builder"
    assert sent("gitops_tui/cli/run_cmd.py") and sent("themes/gitops-dark.yaml")
