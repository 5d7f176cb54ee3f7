"""JSON-Schema validation of request bodies, with validators compiled once per schema."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError


@lru_cache(maxsize=None)
def load_validator(package: str, name: str) -> Draft202012Validator:
    """Compile ``<package>/schemas/<name>.json`` once; later calls reuse the validator."""
    text = resources.files(package).joinpath("schemas", f"{name}.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def first_error(validator: Draft202012Validator, instance: Any) -> ValidationError | None:
    """The most relevant schema error, or None when the instance is valid."""
    errors = sorted(validator.iter_errors(instance), key=lambda e: (list(e.absolute_path), e.validator))
    return errors[0] if errors else None


def error_location(error: ValidationError) -> str:
    """A readable JSON path such as ``$.cohort_changes[0].user_ids``."""
    text = "$"
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text
