"""`create project|secret|source|alert`, `attach cluster`, `delete source|secret|project|alert`: management intents."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gitops_tui.actions import resources, sources
from gitops_tui.api import names
from gitops_tui.api.project import Project
from gitops_tui.api.secret import FederatedSecret
from gitops_tui.cli import alert_cmd
from gitops_tui.cli.common import (
    add_output,
    add_target,
    add_targets,
    confirm,
    management_client,
    print_object,
    read_stdin_secret,
    run_action,
    split_list,
)
from gitops_tui.cli.errors import CliError
from gitops_tui.kube.join import service_account_name


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `create`, `attach` and `delete` verbs."""
    what = add_targets(subparsers, "create", "create a project, secret or source", "WHAT", dest="create_what")
    project = add_target(what, "project", "create a project placed on clusters", cmd_create_project)
    placement = project.add_mutually_exclusive_group(required=True)
    placement.add_argument("--clusters", help="comma-separated cluster names")
    placement.add_argument("--selector", metavar="KEY=VALUE[,KEY=VALUE]",
                           help="place on every cluster whose labels match (see attach cluster --label)")
    project.add_argument("--display-name", default="", help="human name (default: NAME)")
    project.add_argument("--namespace", default="", help="project namespace (default: NAME)")
    project.add_argument("--platform", action="store_true",
                         help="a platform project: may apply Namespaces, cluster-scoped objects and any namespace "
                              "no other project owns (docs/flux.md)")
    project.add_argument("--service-account", default="", metavar="NAME",
                         help="apply the project's objects as this ServiceAccount of its namespace, which you make and "
                              "bind on each cluster (default: gitops-tui-tenant, made and bound to admin there; "
                              "docs/security.md)")
    add_output(project)

    secret = add_target(what, "secret", "create a git credential propagated to the project's clusters",
                        cmd_create_secret, project=True)
    kind = secret.add_mutually_exclusive_group(required=True)
    kind.add_argument("--password-stdin", action="store_true", help="read the password from stdin (with --username)")
    kind.add_argument("--token-stdin", action="store_true", help="read a bearer token from stdin")
    kind.add_argument("--ssh-key", metavar="FILE", help="private key file (identity)")
    secret.add_argument("--username", help="user name for --password-stdin")
    secret.add_argument("--known-hosts", metavar="FILE", help="known_hosts file to go with --ssh-key")
    secret.add_argument("--clusters", help="comma-separated clusters (default: the project's)")
    add_output(secret)

    source = add_target(what, "source", "create a GitOps source (repository + kustomization)", cmd_create_source,
                        project=True)
    source.add_argument("--url", required=True)
    ref = source.add_mutually_exclusive_group()
    ref.add_argument("--branch")
    ref.add_argument("--tag")
    ref.add_argument("--commit")
    source.add_argument("--path", default="./")
    source.add_argument("--secret", default="", help="FederatedSecret with the git credentials")
    source.add_argument("--interval", default="1m")
    source.add_argument("--provider", default="github", help="webhook provider: github, gitlab or generic")
    source.add_argument("--clusters", help="comma-separated clusters (default: the project's)")
    add_output(source)
    alert_cmd.add_create(what)

    attach_what = add_targets(subparsers, "attach", "attach a workload cluster", "WHAT", dest="attach_what")
    cluster = add_target(attach_what, "cluster", "register a cluster from a kubeconfig", cmd_attach_cluster)
    cluster.add_argument("--kubeconfig", dest="cluster_kubeconfig", required=True, metavar="K",
                         help="kubeconfig of the workload cluster")
    cluster.add_argument("--context", dest="cluster_context", metavar="C", help="context in that kubeconfig")
    cluster.add_argument("--label", action="append", default=[], metavar="KEY=VALUE",
                         help="cluster label (for project cluster selectors); repeatable")
    cluster.add_argument("--insecure", action="store_true",
                         help="accept a kubeconfig that turns TLS verification off (insecure-skip-tls-verify)")
    add_output(cluster)

    delete = subparsers.add_parser("delete", help="delete a source, secret or project")
    delete.add_argument("what", choices=("source", "secret", "project", "alert"))
    delete.add_argument("name")
    delete.add_argument("-p", "--project", help="project of the source or secret")
    delete.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    delete.add_argument("--orphan", action="store_true", help="source only: keep the applied objects on the clusters")
    add_output(delete)
    delete.set_defaults(func=cmd_delete)


# -- create ----------------------------------------------------------------------------------
def cmd_create_project(args: argparse.Namespace) -> int:
    """Create a project."""
    clusters = split_list(args.clusters, "--clusters")
    selector = _labels(split_list(args.selector, "--selector") or [], "--selector") if args.selector else None
    api = management_client(args)
    raw = run_action(resources.create_project, api, args.name, clusters, display_name=args.display_name,
                     namespace=args.namespace, selector=selector, platform=args.platform,
                     service_account=args.service_account)
    view = Project(raw)
    summary = {"kind": "Project", "name": view.name, "namespace": view.namespace, "clusters": view.placement_clusters,
               "clusterSelector": view.cluster_selector, "platform": view.platform,
               "serviceAccountName": view.service_account_name}
    where = f"clusters {', '.join(clusters)}" if clusters else "clusters labelled " + ",".join(
        f"{k}={v}" for k, v in (selector or {}).items())
    kind = "platform project" if view.platform else "project"
    print_object(summary, args.output, f"{kind} {view.name} created (namespace {view.namespace}, {where})")
    return 0


def _labels(items: list[str], flag: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"{flag} {item!r} is not KEY=VALUE", 2)
        labels[key.strip()] = value.strip()
    return labels


def cmd_create_secret(args: argparse.Namespace) -> int:
    """Create a FederatedSecret from stdin or a key file; the value is never printed."""
    if args.password_stdin and not args.username:
        raise CliError("--password-stdin needs --username", 2)
    if args.known_hosts and not args.ssh_key:
        raise CliError("--known-hosts goes with --ssh-key", 2)
    clusters = split_list(args.clusters, "--clusters")
    api = management_client(args)
    if args.password_stdin:
        data = run_action(resources.secret_data, username=args.username, password=read_stdin_secret("password"))
    elif args.token_stdin:
        data = run_action(resources.secret_data, token=read_stdin_secret("token"))
    else:
        key = _read_file(args.ssh_key, "SSH key")
        hosts = _read_file(args.known_hosts, "known_hosts") if args.known_hosts else None
        data = run_action(resources.secret_data, ssh_key=key, known_hosts=hosts)
    raw = run_action(resources.create_secret, api, args.project, args.name, data, clusters=clusters)
    view = FederatedSecret(raw)
    summary = {"kind": "Secret", "name": view.name, "namespace": view.namespace, "project": args.project,
               "keys": view.keys}
    print_object(summary, args.output, f"secret {view.name} created in project {args.project} "
                 f"(keys: {', '.join(view.keys)})")
    return 0


def _read_file(path: str, what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError:
        raise CliError(f"the {what} file {path} cannot be read") from None


def cmd_create_source(args: argparse.Namespace) -> int:
    """Create a GitOps source through gitops_tui.actions.sources.create_source."""
    ref = {k: v for k, v in (("branch", args.branch), ("tag", args.tag), ("commit", args.commit)) if v}
    clusters = split_list(args.clusters, "--clusters")
    api = management_client(args)
    run_action(sources.create_source, api, args.project, args.name, url=args.url, ref=ref or None,
               path=args.path, secret=args.secret, interval=args.interval, provider=args.provider,
               clusters=clusters)
    summary = {"kind": "Source", "name": args.name, "project": args.project, "url": args.url,
               "ref": ref or {"branch": "main"}, "path": args.path}
    print_object(summary, args.output, f"source {args.name} created in project {args.project}")
    return 0


# -- attach ----------------------------------------------------------------------------------
def cmd_attach_cluster(args: argparse.Namespace) -> int:
    """Join a workload cluster (a ServiceAccount token in it) and register it (kubeconfig Secret + KubeFedCluster)."""
    labels = _labels(args.label, "--label")
    api = management_client(args)
    raw = run_action(resources.attach_cluster, api, args.name, Path(args.cluster_kubeconfig),
                     args.cluster_context, labels or None, insecure=args.insecure)
    endpoint = (raw.get("spec") or {}).get("apiEndpoint", "")
    summary = {"kind": "Cluster", "name": args.name, "apiEndpoint": endpoint, "labels": labels,
               "serviceAccount": f"{names.FEDERATION_NAMESPACE}/{service_account_name(args.name)}"}
    warning = "; WARNING: TLS verification is off for this cluster (--insecure)" if args.insecure else ""
    print_object(summary, args.output, f"cluster {args.name} attached ({endpoint}) with ServiceAccount "
                 f"{summary['serviceAccount']}{warning}; its health shows in `gitops-tui get clusters`")
    return 0


# -- delete ----------------------------------------------------------------------------------
def cmd_delete(args: argparse.Namespace) -> int:
    """Delete a source, secret or project after confirmation (listing what is pruned)."""
    if args.what in ("source", "secret", "alert") and not args.project:
        raise CliError(f"delete {args.what} needs -p PROJECT", 2)
    api = management_client(args)
    if args.what == "project":
        contents = run_action(resources.project_contents, api, args.name)
        detail = (f"sources: {', '.join(contents['sources']) or 'none'}; secrets: "
                  f"{', '.join(contents['secrets']) or 'none'}; namespace on: {', '.join(contents['clusters']) or 'none'}")
        confirm(f"Delete project {args.name} and prune everything it deployed ({detail})?", args.yes)
        run_action(resources.delete_project, api, args.name)
        summary: dict[str, Any] = {"kind": "Project", "name": args.name, "deleted": True, **contents}
    elif args.what == "alert":
        summary = alert_cmd.delete(args)
    elif args.what == "secret":
        confirm(f"Delete secret {args.name} of project {args.project} from every cluster?", args.yes)
        run_action(resources.delete_secret, api, args.project, args.name)
        summary = {"kind": "Secret", "name": args.name, "project": args.project, "deleted": True}
    else:
        preview = run_action(sources.delete_preview, api, args.project, args.name)
        pruned = "; ".join(f"{cluster}: {len(objs)} object(s)" for cluster, objs in sorted(preview.items())) or "nothing"
        action = "keep its objects (orphan)" if args.orphan else f"prune {pruned}"
        confirm(f"Delete source {args.name} of project {args.project} and {action}?", args.yes)
        run_action(sources.delete_source, api, args.project, args.name, orphan=args.orphan)
        summary = {"kind": "Source", "name": args.name, "project": args.project, "deleted": True,
                   "orphan": args.orphan, "pruned": {} if args.orphan else preview}
    print_object(summary, args.output, f"{args.what} {args.name} deleted" +
                 ("; the reconciler prunes what it deployed" if args.what not in ("secret", "alert") else ""))
    return 0
