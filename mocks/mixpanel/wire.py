"""Reading what clients send: bodies (gzip, size limit, JSON / NDJSON / form ``data``) and
credentials (service account + ``project_id``, or the project secret as the Basic username)."""
from __future__ import annotations

import base64
import binascii
import gzip
import io
import zlib
from typing import Any
from urllib.parse import parse_qs

from flask import request

from mocks.common.numbers import parse_decimal
from mocks.common.validation import MAX_DEPTH, TooDeep, parse_json

from .errors import BadBody, BodyTooLarge
from .ingest import UnparsableRecord
from .store import MixpanelStore, Project

MAX_BODY_BYTES = 10 * 1024 * 1024
#: Mixpanel's 413 text (reference mixpanel.md), for a body past ``MAX_BODY_BYTES`` or the 64 MB cap.
TOO_LARGE = "request exceeds max limit of {limit} bytes"


def read_body(limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, gunzipped when ``Content-Encoding: gzip``; at most ``limit`` bytes uncompressed."""
    raw = request.get_data(cache=True)
    if request.headers.get("Content-Encoding", "").strip().lower() == "gzip":
        try:
            raw = _gunzip(raw, limit)
        except (OSError, EOFError, zlib.error):
            raise BadBody("request body is not valid gzip") from None
    if len(raw) > limit:
        raise BodyTooLarge(TOO_LARGE.format(limit=limit))
    return raw


def _gunzip(raw: bytes, limit: int) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
        return stream.read(limit + 1)


def form_fields(raw: bytes) -> dict[str, str]:
    """``application/x-www-form-urlencoded`` fields (last value wins), merged over the query string."""
    fields = {k: v for k, v in request.args.items()}
    try:
        parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise BadBody("request body is not valid UTF-8") from None
    fields.update({k: v[-1] for k, v in parsed.items()})
    return fields


def is_form() -> bool:
    return (request.mimetype or "") == "application/x-www-form-urlencoded"


#: ``data`` nested deeper than the door allows: its own refusal, so a client sees why.
DATA_TOO_DEEP = f"data, nested more than {MAX_DEPTH} levels deep"


def decode_data(value: str | None) -> Any:
    """The ``data`` field: JSON, or base64-encoded JSON (as older clients send it). Nesting deeper
    than the door's :data:`~mocks.common.validation.MAX_DEPTH` is refused with its own text."""
    if value is None or not value.strip():
        raise BadBody("data, missing or empty")
    try:
        return parse_json(value)
    except TooDeep:
        raise BadBody(DATA_TOO_DEEP) from None
    except (ValueError, RecursionError):
        pass
    padded = value.strip() + "=" * (-len(value.strip()) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            return parse_json(decode(padded))
        except TooDeep:
            raise BadBody(DATA_TOO_DEEP) from None
        except (ValueError, binascii.Error, RecursionError, UnicodeDecodeError):
            continue
    raise BadBody("data, not valid JSON or base64-encoded JSON")


def parse_events(raw: bytes) -> list[Any]:
    """A JSON array, one JSON object, or NDJSON (one event per line)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody("request body is not valid UTF-8") from None
    stripped = text.strip()
    if not stripped:
        raise BadBody("request body is empty")
    if (request.mimetype or "") != "application/x-ndjson":
        try:
            body = parse_json(stripped)
            return body if isinstance(body, list) else [body]
        except (ValueError, RecursionError):
            if stripped.startswith("["):
                raise BadBody("request body is not a valid JSON array") from None
    return [_ndjson_record(line) for line in stripped.splitlines() if line.strip()]


def _ndjson_record(line: str) -> Any:
    try:
        return parse_json(line)
    except (ValueError, RecursionError):
        return UnparsableRecord(line)


def as_list(data: Any) -> list[Any]:
    return data if isinstance(data, list) else [data]


# -- credentials ---------------------------------------------------------------------------------
def authenticated_project(store: MixpanelStore, allow_token: bool, path_project_id: str | None = None) -> Project | None:
    """The project the request's Basic credentials open, or None.

    A service account of the project named by ``project_id`` (the query's, or ``path_project_id`` for
    the app API's ``/api/app/projects/{id}/...``), or the project secret as the username (``/import``
    also takes the project token there); with both, they must name the same project."""
    try:
        credentials = request.authorization
    except ValueError:  # werkzeug's base64 decoding of a payload that is not ASCII: no credentials
        return None
    if credentials is None or credentials.type != "basic":
        return None
    username, password = credentials.username or "", credentials.password or ""
    project_id = path_project_id if path_project_id is not None else request.args.get("project_id")
    project_number = parse_decimal(project_id)
    if project_id is not None and project_number is None:
        return None
    if project_number is not None:
        project = store.project_for_service_account(project_number, username, password)
        if project is not None:
            return project
    project = store.project_by_secret(username)
    if project is None or (not allow_token and username != project.api_secret):
        return None
    if project_id is not None and project.project_id != int(project_id):
        return None
    return project
