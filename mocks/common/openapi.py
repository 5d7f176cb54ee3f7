"""The contract as data: an OpenAPI 3.1 document of a mock's vendor API and control plane, generated.

Nothing here is written by hand per endpoint. The paths and methods are the Flask app's ``url_map``
(the dashboards under ``/_harness/ui`` and Flask's ``static`` route left out: they are for people, not
part of the contract); the request body of an operation is the JSON Schema its view validates with,
read from the same ``schemas/*.json`` files (``mocks.common.schema_compiler``) and found by the names
the view passes to the validation path (``valid_body`` / ``check_body`` and the surfaces' wrappers
take the schema's name as a string literal, so the generator reads the literals of the view's source
that name a schema of its package). OpenAPI 3.1's schema dialect is JSON Schema 2020-12, the dialect
of the mocks' schemas, so a schema is used as it is; only its ``$defs`` move to
``components/schemas`` (``<service>.<schema>.<def>``) and its ``$ref`` follow them.

Served at ``GET /_harness/openapi.json`` by both mocks (``mocks.common.app``).
"""
from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
from functools import lru_cache
from importlib import metadata, resources
from typing import Any, Callable

from flask import Flask

OPENAPI_VERSION = "3.1.0"
CONTROL_PREFIX = "/_harness"
#: Routes for people (the dashboards) and Flask's own: not part of the contract.
LEFT_OUT = ("/_harness/ui", "/static/")
VENDOR_TAG, CONTROL_TAG = "vendor API", "control plane"
_VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
_BODY_METHODS = ("POST", "PUT", "PATCH")


def openapi_document(app: Flask, service: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app`` (a mock of ``service``), built from its url_map."""
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or rule.rule.startswith(LEFT_OUT):
            continue
        path, parameters = _openapi_path(rule.rule)
        view = app.view_functions[rule.endpoint]
        body = _body_schema(view)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation: dict[str, Any] = {
                "operationId": f"{rule.endpoint}.{method.lower()}",
                "tags": [CONTROL_TAG if _is_control(rule.rule) else VENDOR_TAG],
                "summary": _summary(view),
                "responses": {"default": {"description": "the mock's JSON reply (errors in the surface's own shape)"}},
            }
            if parameters:
                operation["parameters"] = parameters
            if body is not None and method in _BODY_METHODS:
                package, name, required = body
                ref = _add_schema(components, service, package, name)
                operation["requestBody"] = {"required": required,
                                            "content": {"application/json": {"schema": {"$ref": ref}}}}
            paths.setdefault(path, {})[method.lower()] = operation
    return {"openapi": OPENAPI_VERSION,
            "info": {"title": f"cohort-harness {service} mock: vendor API and /_harness control plane",
                     "version": _version(),
                     "description": "Generated from the mock's routes and the JSON Schemas it validates "
                                    "request bodies with (docs/conformance.md)."},
            "tags": [{"name": VENDOR_TAG, "description": f"what {service} itself offers"},
                     {"name": CONTROL_TAG, "description": "the test control plane a target offers (README)"}],
            "paths": paths, "components": {"schemas": components}}


def _is_control(rule: str) -> bool:
    return rule == CONTROL_PREFIX or rule.startswith(CONTROL_PREFIX + "/")


def _openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """``/a/<ws>/<any(x, y):kind>`` -> ``/a/{ws}/{kind}`` and its path parameters."""
    parameters = []
    for match in _VARIABLE.finditer(rule):
        converter, args = match.group("converter"), match.group("args")
        schema: dict[str, Any] = {"type": "integer"} if converter == "int" else {"type": "string"}
        if converter == "any" and args:
            schema["enum"] = [value.strip().strip("'\"") for value in args.split(",")]
        elif converter != "path":
            schema["pattern"] = "^[^/]+$"
        parameters.append({"name": match.group("name"), "in": "path", "required": True, "schema": schema})
    return _VARIABLE.sub(lambda m: "{" + m.group("name") + "}", rule), parameters


def _summary(view: Callable[..., Any]) -> str:
    doc = inspect.getdoc(inspect.unwrap(view)) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ") or view.__name__.replace("_", " ")


@lru_cache(maxsize=None)
def _schema_names(package: str) -> frozenset[str]:
    try:
        folder = resources.files(package).joinpath("schemas")
        return frozenset(f.name.removesuffix(".json") for f in folder.iterdir() if f.name.endswith(".json"))
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError, TypeError):  # not a package
        return frozenset()


def _schema_package(module: str) -> str | None:
    """The innermost package of ``module`` that holds a ``schemas`` folder."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        if _schema_names(".".join(parts[:end])):
            return ".".join(parts[:end])
    return None


def _body_schema(view: Callable[..., Any]) -> tuple[str, str, bool] | None:
    """``(package, schema name, body required)`` of the schema the view validates its body with."""
    function = inspect.unwrap(view)
    package = _schema_package(function.__module__)
    if package is None:
        return None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return None
    names = _schema_names(package)
    literals = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and node.value in names]
    if not literals:
        return None
    optional = any(isinstance(node, ast.keyword) and node.arg == "optional" and
                   isinstance(node.value, ast.Constant) and node.value.value is True for node in ast.walk(tree))
    return package, str(literals[0]), not optional


def _add_schema(components: dict[str, Any], service: str, package: str, name: str) -> str:
    """Put ``<package>/schemas/<name>.json`` (and its ``$defs``) into ``components``; its ``$ref``."""
    key = f"{service}.{name}"
    if key not in components:
        text = resources.files(package).joinpath("schemas", f"{name}.json").read_text(encoding="utf-8")
        schema = json.loads(text)
        schema.pop("$schema", None)
        definitions = schema.pop("$defs", {})
        components[key] = _moved_refs(schema, key)
        for definition, value in definitions.items():
            components[f"{key}.{definition}"] = _moved_refs(value, key)
    return f"#/components/schemas/{key}"


def _moved_refs(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return {k: (f"#/components/schemas/{key}.{v.removeprefix('#/$defs/')}"
                    if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/") else _moved_refs(v, key))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_moved_refs(item, key) for item in value]
    return value


def _version() -> str:
    try:
        return metadata.version("cohort-harness")
    except metadata.PackageNotFoundError:
        return "0"
