"""Names of the management API: groups, versions, kinds, plurals, annotations, labels, finalizers, conditions."""

from __future__ import annotations

# Groups and versions.
PROJECT_GROUP = "gitops-tui.io"
PROJECT_VERSION = "v1alpha1"
PROJECT_API_VERSION = f"{PROJECT_GROUP}/{PROJECT_VERSION}"

KUBEFED_CORE_GROUP = "core.kubefed.io"
KUBEFED_CORE_VERSION = "v1beta1"
KUBEFED_CORE_API_VERSION = f"{KUBEFED_CORE_GROUP}/{KUBEFED_CORE_VERSION}"

TYPES_GROUP = "types.kubefed.io"
TYPES_VERSION = "v1beta1"
TYPES_API_VERSION = f"{TYPES_GROUP}/{TYPES_VERSION}"

# Kinds.
KIND_PROJECT = "Project"
KIND_KUBEFED_CLUSTER = "KubeFedCluster"
KIND_FEDERATED_SECRET = "FederatedSecret"
KIND_FEDERATED_GIT_REPOSITORY = "FederatedGitRepository"
KIND_FEDERATED_KUSTOMIZATION = "FederatedKustomization"
KIND_ALERT = "Alert"

# Plurals (the REST resource names).
PLURAL_PROJECTS = "projects"
PLURAL_KUBEFED_CLUSTERS = "kubefedclusters"
PLURAL_FEDERATED_SECRETS = "federatedsecrets"
PLURAL_FEDERATED_GIT_REPOSITORIES = "federatedgitrepositories"
PLURAL_FEDERATED_KUSTOMIZATIONS = "federatedkustomizations"
PLURAL_ALERTS = "alerts"

# Singulars.
SINGULAR_PROJECT = "project"
SINGULAR_KUBEFED_CLUSTER = "kubefedcluster"
SINGULAR_FEDERATED_SECRET = "federatedsecret"
SINGULAR_FEDERATED_GIT_REPOSITORY = "federatedgitrepository"
SINGULAR_FEDERATED_KUSTOMIZATION = "federatedkustomization"

# kind -> (group, version, plural), for clients that address objects by kind.
RESOURCES: dict[str, tuple[str, str, str]] = {
    KIND_PROJECT: (PROJECT_GROUP, PROJECT_VERSION, PLURAL_PROJECTS),
    KIND_KUBEFED_CLUSTER: (KUBEFED_CORE_GROUP, KUBEFED_CORE_VERSION, PLURAL_KUBEFED_CLUSTERS),
    KIND_FEDERATED_SECRET: (TYPES_GROUP, TYPES_VERSION, PLURAL_FEDERATED_SECRETS),
    KIND_FEDERATED_GIT_REPOSITORY: (TYPES_GROUP, TYPES_VERSION, PLURAL_FEDERATED_GIT_REPOSITORIES),
    KIND_FEDERATED_KUSTOMIZATION: (TYPES_GROUP, TYPES_VERSION, PLURAL_FEDERATED_KUSTOMIZATIONS),
    KIND_ALERT: (PROJECT_GROUP, PROJECT_VERSION, PLURAL_ALERTS),
}

# Namespaces.
FEDERATION_NAMESPACE = "kube-federation-system"
SYSTEM_NAMESPACE = "gitops-tui-system"

# Annotations.
ANNOTATION_SUSPENDED_BY = "gitops-tui.io/suspended-by"
ANNOTATION_SUSPEND_REASON = "gitops-tui.io/suspend-reason"
ANNOTATION_SUSPENDED_AT = "gitops-tui.io/suspended-at"
ANNOTATION_REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
ANNOTATION_ORPHAN = "kubefed.io/orphan"
#: Annotation keys on Events naming the cluster and the revision they are about.
ANNOTATION_EVENT_CLUSTER = "gitops-tui.io/cluster"
ANNOTATION_EVENT_REVISION = "gitops-tui.io/revision"
SUSPEND_ANNOTATIONS = (ANNOTATION_SUSPENDED_BY, ANNOTATION_SUSPEND_REASON, ANNOTATION_SUSPENDED_AT)

# Finalizers.
FINALIZER_PRUNE = "gitops-tui.io/prune"

# Labels.
LABEL_PROJECT = "gitops-tui.io/project"
LABEL_SOURCE = "gitops-tui.io/source"
#: On the ServiceAccount and RoleBinding the reconciler makes for a project on each workload cluster: the project.
LABEL_IDENTITY_OF = "gitops-tui.io/identity-of"
#: The ServiceAccount a project's objects are applied as, unless its spec.serviceAccountName names another.
DEFAULT_SERVICE_ACCOUNT = "gitops-tui-tenant"
#: The built-in ClusterRole that ServiceAccount is bound to, in the project namespace only.
TENANT_CLUSTER_ROLE = "admin"
#: Flux's Helm CRDs the reconciler installs on a workload cluster, and the ClusterRole it aggregates into
#: ``admin`` and ``edit`` so that project ServiceAccounts may write those kinds in their namespace.
HELM_CRD_NAMES = ("helmreleases.helm.toolkit.fluxcd.io", "helmrepositories.source.toolkit.fluxcd.io",
                  "helmcharts.source.toolkit.fluxcd.io", "ocirepositories.source.toolkit.fluxcd.io")
HELM_TENANT_ROLE = "gitops-tui:flux-helm-edit"
#: On a child source made from a Flux Kustomization: the name of the source that renders it (docs/flux.md).
LABEL_PARENT_SOURCE = "gitops-tui.io/parent-source"
# Helm's ownership metadata on a chart's objects (Helm's own names; see docs/helm.md).
LABEL_HELM_MANAGED_BY = "app.kubernetes.io/managed-by"
ANNOTATION_HELM_RELEASE_NAME = "meta.helm.sh/release-name"
ANNOTATION_HELM_RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"

# Writers and coordination.
FIELD_MANAGER = "gitops-tui"
REPORTING_COMPONENT = "gitops-tui"
LEASE_NAME = "gitops-tui-reconciler"

# Secret keys.
KUBECONFIG_SECRET_KEY = "kubeconfig"
GIT_USERNAME_KEY = "username"
GIT_PASSWORD_KEY = "password"
GIT_BEARER_TOKEN_KEY = "bearerToken"
GIT_IDENTITY_KEY = "identity"
GIT_KNOWN_HOSTS_KEY = "known_hosts"

# Condition types.
PROPAGATION = "Propagation"
READY = "Ready"
RECONCILING = "Reconciling"
STALLED = "Stalled"
OFFLINE = "Offline"

# KubeFedCluster condition reasons.
REASON_CLUSTER_READY = "ClusterReady"
REASON_CLUSTER_NOT_READY = "ClusterNotReady"
REASON_CLUSTER_NOT_REACHABLE = "ClusterNotReachable"

# Source reasons of one owner per object, all or nothing and bounded cost (docs/reconciler.md).
REASON_OWNERSHIP_CONFLICT = "OwnershipConflict"
REASON_ADOPTED = "Adopted"
REASON_DRY_RUN_FAILED = "DryRunFailed"
REASON_LIMIT_EXCEEDED = "LimitExceeded"
REASON_RECONCILIATION_FAILED = "ReconciliationFailed"

# Defaults.
DEFAULT_PROVIDER = "github"
DEFAULT_INTERVAL = "1m"
DEFAULT_TIMEOUT = "60s"
