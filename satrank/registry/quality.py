"""The quality stage: where the service declares a response schema for the endpoint, the
delivered body validates against it (JSON Schema, through the maintained `jsonschema`).

A schema comes from the host's /.well-known/l402.json (a resource's `responseSchema`) or
from the OpenAPI document the manifest links (`openapi`): the operation of the endpoint's
path and method, its first 2xx (or `default`) JSON response. `$ref`s into the document's
`components` resolve; nothing is ever fetched to resolve a reference.

Reasons: `SCHEMA_MISMATCH@<JSON pointer of the first error>`, `NOT_JSON` (a schema was
declared, the body is not JSON), `TOO_DEEP`. `NO_SCHEMA` (none declared) and
`SCHEMA_INVALID` (the declared one is not a usable schema) mean the stage was skipped, not
failed: scoring leaves them out.

Bounded: the body is already capped by egress (1 MiB), the manifest and the OpenAPI
document too; no format checking (no regex-heavy format validators), and validation stops
at the first error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import referencing.exceptions
from jsonschema.exceptions import SchemaError
from jsonschema.validators import Draft202012Validator, validator_for

from satrank.scoring.registry import SKIPPED_REASONS

OK = "OK"
NO_SCHEMA = "NO_SCHEMA"
SCHEMA_INVALID = "SCHEMA_INVALID"
SCHEMA_MISMATCH = "SCHEMA_MISMATCH"
NOT_JSON = "NOT_JSON"
TOO_DEEP = "TOO_DEEP"
SKIPPED = SKIPPED_REASONS  # NO_SCHEMA and SCHEMA_INVALID: what scoring leaves out
MAX_POINTER = 120  # the path is the third party's text: short and printable in a reason
_UNPRINTABLE = re.compile(r"[^\x21-\x7e]")
_RESPONSE_KEYS = ("200", "201", "202", "203", "2XX", "2xx", "default")

Schema = dict[str, Any]


def openapi_response_schema(doc: Any, path: str, method: str) -> Schema | None:
    """The JSON response schema `doc` (an OpenAPI 3 document) declares for `method path`."""
    if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict):
        return None
    operation = _dict(_dict(doc["paths"].get(path)).get(method.lower()))
    responses = _dict(operation.get("responses"))
    for key in _RESPONSE_KEYS:
        content = _dict(_dict(responses.get(key)).get("content"))
        media = next((v for k, v in content.items() if "json" in str(k).lower()), None)
        schema = _dict(media).get("schema")
        if isinstance(schema, dict):
            components = doc.get("components")
            # `#/components/...` refs resolve against the schema's root: carry them along
            return {**schema, "components": components} if isinstance(components, dict) \
                else schema
    return None


def check_body(schema: Schema | None, body: bytes) -> tuple[bool, str]:
    """(passed, reason) of the quality stage for one delivered body. CPU bound: the caller
    runs it off the event loop."""
    if schema is None:
        return True, NO_SCHEMA
    try:
        cls = validator_for(schema, default=Draft202012Validator)
        cls.check_schema(schema)
    except (SchemaError, RecursionError):
        return True, SCHEMA_INVALID
    try:
        instance = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False, NOT_JSON
    except RecursionError:
        return False, TOO_DEEP
    try:
        error = next(iter(cls(schema).iter_errors(instance)), None)
    except referencing.exceptions.Unresolvable:
        return True, SCHEMA_INVALID  # a reference we will not fetch
    except RecursionError:
        return False, TOO_DEEP
    if error is None:
        return True, OK
    return False, f"{SCHEMA_MISMATCH}@{_pointer(error.absolute_path)}"


def _pointer(path: Iterable[str | int]) -> str:
    pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path) or "/"
    return _UNPRINTABLE.sub("?", pointer)[:MAX_POINTER]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
