"""/openapi/v2 (JSON and protobuf) and /openapi/v3 documents built from the catalog."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from gitops_tui.sandbox.schema.catalog import Catalog, ResourceType
from gitops_tui.sandbox.schema.kube_schemas import KUBE_VERSION
from gitops_tui.sandbox.schema.openapi_proto import encode_document
from gitops_tui.sandbox.schema.openapi_schemas import META, definition_name, definitions

V2_PROTOBUF_MEDIA = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"  # what kubectl Accepts
V2_PROTOBUF_CONTENT_TYPE = "application/octet-stream"  # what kube-apiserver answers it with
PATCH_MEDIA = ("application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")
GVK = "x-kubernetes-group-version-kind"

_QUERY = {
    "dryRun": "When present, indicates that modifications should not be persisted. Valid values: All.",
    "fieldManager": "fieldManager is a name associated with the actor or entity that is making these changes.",
    "fieldValidation": "fieldValidation instructs the server on how to handle objects in the request containing "
                       "unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.",
    "force": "Force is going to \"force\" Apply requests.",
    "labelSelector": "A selector to restrict the list of returned objects by their labels.",
    "fieldSelector": "A selector to restrict the list of returned objects by their fields.",
    "limit": "limit is a maximum number of responses to return for a list call.",
    "continue": "The continue option should be set when retrieving more results from the server.",
    "resourceVersion": "resourceVersion sets a constraint on what resource versions a request may be served from.",
    "watch": "Watch for changes to the described resources and return them as a stream of add, update, and "
             "remove notifications.",
    "allowWatchBookmarks": "allowWatchBookmarks requests watch events with type \"BOOKMARK\".",
    "timeoutSeconds": "Timeout for the list/watch call.",
    "gracePeriodSeconds": "The duration in seconds before the object should be deleted.",
    "propagationPolicy": "Whether and how garbage collection will be performed.",
}
_QUERY_TYPES = {"force": "boolean", "limit": "integer", "watch": "boolean", "allowWatchBookmarks": "boolean",
                "timeoutSeconds": "integer", "gracePeriodSeconds": "integer"}
_WRITE = ("dryRun", "fieldManager", "fieldValidation")
_LIST = ("labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "watch", "allowWatchBookmarks",
         "timeoutSeconds")
_ACTIONS = {  # method -> (x-kubernetes-action, operationId verb, query parameters)
    "get": ("get", "read", ()),
    "list": ("list", "list", _LIST),
    "post": ("post", "create", _WRITE),
    "put": ("put", "replace", _WRITE),
    "patch": ("patch", "patch", _WRITE + ("force",)),
    "delete": ("delete", "delete", ("dryRun", "gracePeriodSeconds", "propagationPolicy")),
    "deletecollection": ("deletecollection", "deleteCollection", ("dryRun",) + _LIST[:5]),
}


def _camel_group(group: str) -> str:
    if not group:
        return "Core"
    trimmed = group[: -len(".k8s.io")] if group.endswith(".k8s.io") else group
    return "".join(part[:1].upper() + part[1:] for part in trimmed.replace("-", ".").split("."))


def _gvk(rt: ResourceType, kind: str | None = None) -> dict:
    return {"group": rt.group, "kind": kind or rt.kind, "version": rt.version}


def _base(rt: ResourceType) -> str:
    return f"/api/{rt.version}" if not rt.group else f"/apis/{rt.group}/{rt.version}"


#: The API verb each operation needs (a create-only kind such as SelfSubjectAccessReview has no list or get).
_ACTION_VERBS = {"list": "list", "post": "create", "deletecollection": "deletecollection", "get": "get",
                 "put": "update", "patch": "patch", "delete": "delete"}


def _operations(rt: ResourceType) -> list[tuple[str, str, str, dict, bool]]:
    """(path, method, action key, gvk, namespaced-path) for every operation on ``rt``."""
    base = _base(rt)
    coll = f"{base}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{base}/{rt.plural}"
    item = coll + "/{name}"
    ops = [(coll, "get", "list"), (coll, "post", "post"), (coll, "delete", "deletecollection"),
           (item, "get", "get"), (item, "put", "put"), (item, "patch", "patch"), (item, "delete", "delete")]
    if rt.namespaced:
        ops.append((f"{base}/{rt.plural}", "get", "list"))
    for sub in sorted(rt.subresources & {"status"}):
        ops += [(f"{item}/{sub}", "get", "get"), (f"{item}/{sub}", "put", "put"), (f"{item}/{sub}", "patch", "patch")]
    return [(path, method, action, _gvk(rt), "{namespace}" in path) for path, method, action in ops
            if _ACTION_VERBS[action] in rt.verbs]


def _op_id(rt: ResourceType, action: str, path: str, namespaced: bool) -> str:
    verb = _ACTIONS[action][1]
    suffix = "Status" if path.endswith("/status") else ""
    scope = "Namespaced" if namespaced else ""
    all_ns = "ForAllNamespaces" if rt.namespaced and not namespaced else ""
    return f"{verb}{_camel_group(rt.group)}{rt.version.capitalize()}{scope}{rt.kind}{suffix}{all_ns}"


def _path_params(path: str, v3: bool) -> list[dict]:
    params = []
    for name in ("name", "namespace"):
        if "{" + name + "}" in path:
            desc = f"name of the {'object' if name == 'name' else 'namespace'}"
            p: dict[str, Any] = {"name": name, "in": "path", "required": True, "description": desc}
            if v3:
                p["schema"] = {"type": "string", "uniqueItems": True}
            else:
                p.update({"type": "string", "uniqueItems": True})
            params.append(p)
    return params


def _query_param(name: str, v3: bool) -> dict:
    p: dict[str, Any] = {"name": name, "in": "query", "description": _QUERY[name]}
    typ = _QUERY_TYPES.get(name, "string")
    if v3:
        p["schema"] = {"type": typ, "uniqueItems": True}
    else:
        p.update({"type": typ, "uniqueItems": True})
    return p


def _ref(name: str, v3: bool) -> dict:
    return {"$ref": ("#/components/schemas/" if v3 else "#/definitions/") + name}


def _build_paths(types: list[ResourceType], v3: bool) -> dict:
    paths: dict[str, dict] = {}
    for rt in types:
        kind_def = definition_name(rt)
        for path, method, action, gvk, namespaced in _operations(rt):
            entry = paths.setdefault(path, {"parameters": _path_params(path, v3)})
            body_def = kind_def + "List" if action == "list" else kind_def
            if action in ("delete", "deletecollection"):
                body_def = META + "Status"
            op: dict[str, Any] = {
                "operationId": _op_id(rt, action, path, namespaced),
                "tags": [f"{_camel_group(rt.group)[0].lower()}{_camel_group(rt.group)[1:]}_{rt.version}"],
                "parameters": [_query_param(q, v3) for q in _ACTIONS[action][2]],
                "x-kubernetes-action": _ACTIONS[action][0],
                GVK: dict(gvk),
            }
            if v3:
                op["responses"] = {"200": {"description": "OK", "content": {
                    "application/json": {"schema": _ref(body_def, True)}}}}
                if method in ("post", "put"):
                    op["requestBody"] = {"required": True, "content": {
                        "application/json": {"schema": _ref(kind_def, True)}}}
                if method == "patch":
                    op["requestBody"] = {"required": True, "content": {
                        media: {"schema": _ref(META + "Patch", True)} for media in PATCH_MEDIA}}
            else:
                op["responses"] = {"200": {"description": "OK", "schema": _ref(body_def, False)},
                                   "401": {"description": "Unauthorized"}}
                op["produces"] = ["application/json", "application/yaml"]
                op["schemes"] = ["https"]
                if method == "patch":
                    op["consumes"] = list(PATCH_MEDIA)
                    op["parameters"].insert(0, {"name": "body", "in": "body", "required": True,
                                                "schema": _ref(META + "Patch", False)})
                elif method in ("post", "put"):
                    op["consumes"] = ["*/*"]
                    op["parameters"].insert(0, {"name": "body", "in": "body", "required": True,
                                                "schema": _ref(kind_def, False)})
            entry[method] = op
    return paths


def _open_schema(schema: Any) -> Any:
    """Give type-less, property-less schemas an explicit open object type (kubectl explain needs a type)."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _open_schema(v) for k, v in out["properties"].items()}
    for key in ("items", "additionalProperties", "not"):
        if isinstance(out.get(key), dict):
            out[key] = _open_schema(out[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(out.get(key), list):
            out[key] = [_open_schema(v) for v in out[key]]
    if "$ref" in out and len(out) > 1:  # v3 wraps a described reference in allOf, as kube-openapi does
        out["allOf"] = [{"$ref": out.pop("$ref")}]
    if not ({"type", "$ref", "properties", "allOf", "anyOf", "oneOf", "items",
             "x-kubernetes-int-or-string"} & out.keys()):
        out.update({"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    return out


def _to_v3_schemas(definitions: dict) -> dict:
    text = json.dumps(definitions).replace('"#/definitions/', '"#/components/schemas/')
    return {name: _open_schema(schema) for name, schema in json.loads(text).items()}


def openapi_v2(catalog: Catalog) -> dict:
    """The Swagger 2.0 document served at /openapi/v2 (shared and cached: do not mutate)."""
    def build() -> dict:
        types = catalog.all()
        return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": KUBE_VERSION},
                "paths": _build_paths(types, False), "definitions": definitions(types, False),
                "securityDefinitions": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header",
                                                        "description": "Bearer Token authentication"}},
                "security": [{"BearerToken": []}]}
    return catalog.memo("v2", build)


def openapi_v2_protobuf(catalog: Catalog) -> bytes:
    """The /openapi/v2 document as gnostic protobuf, the form kubectl asks for (Accept: V2_PROTOBUF_MEDIA)."""
    return catalog.memo("v2pb", lambda: encode_document(openapi_v2(catalog)))


def _gv_key(rt: ResourceType) -> str:
    return f"api/{rt.version}" if not rt.group else f"apis/{rt.group}/{rt.version}"


def _v3_docs(catalog: Catalog) -> dict[str, tuple[dict, str]]:
    def build() -> dict[str, tuple[dict, str]]:
        by_gv: dict[str, list[ResourceType]] = {}
        for rt in catalog.all():
            by_gv.setdefault(_gv_key(rt), []).append(rt)
        docs: dict[str, tuple[dict, str]] = {}
        for key, types in sorted(by_gv.items()):
            doc = {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": KUBE_VERSION},
                   "paths": _build_paths(types, True),
                   "components": {"schemas": _to_v3_schemas(definitions(types, True)),
                                  "securitySchemes": {"BearerToken": {
                                      "type": "apiKey", "name": "authorization", "in": "header",
                                      "description": "Bearer Token authentication"}}}}
            digest = hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest().upper()
            docs[key] = (doc, digest)
        return docs
    return catalog.memo("v3", build)


def openapi_v3_index(catalog: Catalog) -> dict:
    """The /openapi/v3 discovery index: one serverRelativeURL (with a content hash) per group-version."""
    return {"paths": {key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
                      for key, (_, digest) in _v3_docs(catalog).items()}}


def openapi_v3_document(catalog: Catalog, gv_path: str) -> dict | None:
    """The OpenAPI 3.0 document of one group-version ('api/v1', 'apis/apps/v1'), or None when unknown."""
    key = gv_path.split("?", 1)[0].strip("/")
    if key.startswith("openapi/v3/"):
        key = key[len("openapi/v3/"):]
    found = _v3_docs(catalog).get(key)
    return found[0] if found else None

