"""Typed views of the management objects, CRD manifests, and the names of labels, annotations, finalizers and conditions. No I/O.

Modules:
- names: groups/versions, kinds, plurals (RESOURCES: kind -> (group, version, plural)), namespaces,
  annotations, labels, finalizer, field manager, lease, Secret keys, condition types and reasons.
- crds: crd_manifests() / crd_names(): apiextensions.k8s.io/v1 CRDs (structural schemas, status
  subresource, printer columns, short names proj, kfc, fsec, fgr, fks).
- base: ObjectView, the common metadata / status / conditions / suspension accessors.
- project, cluster, secret, source: Project, KubeFedCluster, FederatedSecret, GitOpsSource
  (+ pair_sources) typed views built from raw dicts.
- status: ClusterStatus (one status.clusters entry) and helpers to set / remove entries.
- conditions: Condition, find_condition, condition_status, set_condition (lastTransitionTime
  changes only when status changes), remove_condition.
- placement: placed_clusters (names win over clusterSelector; empty falls back to the project;
  bounded by the project's clusters; in the project's placement order), selector_matches, placement_order and
  fleet_order (the one cluster order of every surface).
- effective (the model) and effective_state (source_state computes it, with effective_holds and observed): the
  one effective state of a source per cluster (intent, hold, target, observed) every surface reads; holds: the
  operator's freeze, pin and break glass recorded on the Project; managed_fields: who last wrote a field (a claim).
- formats: parse_duration / format_duration, format_revision / parse_revision / short_revision,
  ObjectRef and Flux inventory ids "<namespace>_<name>_<group>_<Kind>", now_rfc3339.
- flux_role: what a source is to Flux (a child, a bootstrap source whose flux-system Kustomization is itself,
  Flux's own components skipped or applied), read from its FederatedKustomization for every surface.
- builders: new_project, new_kubefed_cluster, new_federated_secret, new_source, and the
  suspend / resume / reconcile merge patches.
"""
