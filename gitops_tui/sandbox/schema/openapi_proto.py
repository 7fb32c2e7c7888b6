"""Encode a Swagger 2.0 document as gnostic's openapi_v2.Document protobuf (what kubectl reads)."""

from __future__ import annotations

import struct
from typing import Any

import yaml


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, data: bytes) -> bytes:
    """A length-delimited field (string, bytes or message); empty messages are still written."""
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _str(number: int, value: Any) -> bytes:
    if value is None or value == "":
        return b""
    return _field(number, str(value).encode("utf-8"))


def _strs(number: int, values: Any) -> bytes:
    if isinstance(values, str):
        values = [values]
    return b"".join(_field(number, str(v).encode("utf-8")) for v in values or ())


def _bool(number: int, value: Any, always: bool = False) -> bytes:
    if not value and not always:
        return b""
    return _varint(number << 3) + (b"\x01" if value else b"\x00")


def _int(number: int, value: Any) -> bytes:
    if value is None or isinstance(value, bool) or not isinstance(value, int) or value == 0:
        return b""
    return _varint(number << 3) + _varint(value)


def _double(number: int, value: Any) -> bytes:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or value == 0:
        return b""
    return _varint(number << 3 | 1) + struct.pack("<d", float(value))


def _yaml(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=False, sort_keys=True)
    return text[: -len("...\n")] if text.endswith("...\n") else text


def _any(value: Any) -> bytes:
    """gnostic Any: the value as YAML text (field 2)."""
    return _str(2, _yaml(value))


def _named_any(number: int, name: str, value: Any) -> bytes:
    return _field(number, _str(1, name) + _field(2, _any(value)))


def _extensions(number: int, spec: dict) -> bytes:
    return b"".join(_named_any(number, k, v) for k, v in spec.items() if k.startswith("x-"))


def encode_schema(schema: dict) -> bytes:
    """openapi_v2.Schema."""
    out = _str(1, schema.get("$ref")) + _str(2, schema.get("format")) + _str(3, schema.get("title"))
    out += _str(4, schema.get("description"))
    if "default" in schema:
        out += _field(5, _any(schema["default"]))
    out += _double(6, schema.get("multipleOf")) + _double(7, schema.get("maximum"))
    out += _bool(8, schema.get("exclusiveMaximum")) + _double(9, schema.get("minimum"))
    out += _bool(10, schema.get("exclusiveMinimum"))
    for number, key in ((11, "maxLength"), (12, "minLength")):
        out += _int(number, schema.get(key))
    out += _str(13, schema.get("pattern"))
    for number, key in ((14, "maxItems"), (15, "minItems")):
        out += _int(number, schema.get(key))
    out += _bool(16, schema.get("uniqueItems"))
    for number, key in ((17, "maxProperties"), (18, "minProperties")):
        out += _int(number, schema.get(key))
    out += _strs(19, schema.get("required"))
    for item in schema.get("enum") or ():
        out += _field(20, _any(item))
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        out += _field(21, _field(1, encode_schema(extra)))
    elif isinstance(extra, bool):
        out += _field(21, _bool(2, extra, always=True))
    if "type" in schema:
        out += _field(22, _strs(1, schema["type"]))
    if "items" in schema:
        items = schema["items"] if isinstance(schema["items"], list) else [schema["items"]]
        out += _field(23, b"".join(_field(1, encode_schema(i)) for i in items))
    for sub in schema.get("allOf") or ():
        out += _field(24, encode_schema(sub))
    if "properties" in schema:
        props = b"".join(_field(1, _str(1, name) + _field(2, encode_schema(sub)))
                         for name, sub in (schema["properties"] or {}).items())
        out += _field(25, props)
    out += _bool(27, schema.get("readOnly"))
    return out + _extensions(31, schema)


def _parameter(param: dict) -> bytes:
    where = param.get("in", "")
    if where == "body":
        body = (_str(1, param.get("description")) + _str(2, param.get("name")) + _str(3, "body")
                + _bool(4, param.get("required")) + _field(5, encode_schema(param.get("schema") or {})))
        return _field(1, _field(1, body))
    common = (_bool(1, param.get("required")) + _str(2, where) + _str(3, param.get("description"))
              + _str(4, param.get("name")))
    if where == "query":
        sub = (common + _str(6, param.get("type")) + _str(7, param.get("format"))
               + _bool(20, param.get("uniqueItems")))
        which = 3
    else:  # path and header share the numbering after name
        unique_field = 19
        sub = (common + _str(5, param.get("type")) + _str(6, param.get("format"))
               + _bool(unique_field, param.get("uniqueItems")))
        which = 4 if where == "path" else 1
    return _field(1, _field(2, _field(which, sub)))


def _responses(responses: dict) -> bytes:
    out = b""
    for code, resp in responses.items():
        if code.startswith("x-"):
            continue
        body = _str(1, resp.get("description"))
        if "schema" in resp:
            body += _field(2, _field(1, encode_schema(resp["schema"])))
        out += _field(1, _str(1, code) + _field(2, _field(1, body)))
    return out + _extensions(2, responses)


def _operation(op: dict) -> bytes:
    out = _strs(1, op.get("tags")) + _str(2, op.get("summary")) + _str(3, op.get("description"))
    out += _str(5, op.get("operationId")) + _strs(6, op.get("produces")) + _strs(7, op.get("consumes"))
    out += b"".join(_field(8, _parameter(p)) for p in op.get("parameters") or ())
    if "responses" in op:
        out += _field(9, _responses(op["responses"]))
    out += _strs(10, op.get("schemes")) + _bool(11, op.get("deprecated"))
    return out + _extensions(13, op)


_METHODS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def _path_item(item: dict) -> bytes:
    out = _str(1, item.get("$ref"))
    for method, number in _METHODS.items():
        if method in item:
            out += _field(number, _operation(item[method]))
    out += b"".join(_field(9, _parameter(p)) for p in item.get("parameters") or ())
    return out + _extensions(10, item)


def _security(doc: dict) -> bytes:
    out = b""
    for requirement in doc.get("security") or ():
        named = b"".join(_field(1, _str(1, name) + _field(2, _strs(1, scopes)))
                         for name, scopes in requirement.items())
        out += _field(12, named)
    defs = doc.get("securityDefinitions") or {}
    if defs:
        items = b""
        for name, sec in defs.items():
            api_key = (_str(1, sec.get("type")) + _str(2, sec.get("name")) + _str(3, sec.get("in"))
                       + _str(4, sec.get("description")))
            items += _field(1, _str(1, name) + _field(2, _field(2, api_key)))
        out += _field(13, items)
    return out


def encode_document(doc: dict) -> bytes:
    """openapi_v2.Document bytes for a Swagger 2.0 ``doc``."""
    info = doc.get("info") or {}
    out = _str(1, doc.get("swagger", "2.0"))
    out += _field(2, _str(1, info.get("title")) + _str(2, info.get("version")))
    paths = b"".join(_field(2, _str(1, path) + _field(2, _path_item(item)))
                     for path, item in (doc.get("paths") or {}).items())
    out += _field(8, paths)
    definitions = b"".join(_field(1, _str(1, name) + _field(2, encode_schema(schema)))
                           for name, schema in (doc.get("definitions") or {}).items())
    out += _field(9, definitions)
    return out + _security(doc) + _extensions(16, doc)
