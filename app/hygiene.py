"""Input hygiene at the door: hostile bytes are refused before any view or database call.

Installed by ``create_app`` as the very first ``before_request`` function, so it runs before
CSRF, rate limits, the actor context and any view. It refuses, with 400 (problem+json under
``/api/``, the error page elsewhere):

* control characters (C0 and DEL) and lone UTF-16 surrogates in the path, in query
  parameter names and values, in form and JSON *keys* and in header values: they are never
  data, and PostgreSQL refuses NUL in text (``psycopg.DataError``, formerly a 500);
* the same in form and JSON *values*, except tab, line feed and carriage return, which free
  text (a narration, an address) may hold;
* JSON nested deeper than ``JSON_MAX_DEPTH`` (5,000 levels used to end in RecursionError)
  and JSON bodies larger than ``JSON_MAX_BYTES`` (413).

Multipart file contents are not inspected (documents are checked by the storage layer).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, render_template, request

from app.errors import problem, wants_problem

# C0 controls and DEL, and lone surrogates (they cannot be encoded as UTF-8 for the database).
_STRICT = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
# The same, but tab, line feed and carriage return are allowed (free text).
_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


class Refused(Exception):
    """A request part that hygiene refuses: ``where`` names it for the message."""

    def __init__(self, where: str, status: int = 400, title: str = "Control characters refused", detail: str = ""):
        super().__init__(where)
        self.where = where
        self.status = status
        self.title = title
        self.detail = detail or (
            f"Part of the request ({where}) holds a control character (such as NUL) or an invalid character; "
            "remove it and send the request again."
        )


def _check(value: str | None, where: str, *, text: bool = False) -> None:
    if not isinstance(value, str) or (_TEXT if text else _STRICT).search(value):
        raise Refused(where)  # None: a multipart part whose header names no field


def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays/objects in a JSON text, without parsing it (strings skipped)."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', data)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _walk_json(value: Any, path: str) -> None:
    if isinstance(value, str):
        _check(value, f"JSON field {path or 'body'}", text=True)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, "JSON field names")
            _walk_json(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk_json(item, f"{path}[{index}]")


def _is_json() -> bool:
    mimetype = request.mimetype or ""
    return mimetype == "application/json" or mimetype.endswith("+json")


def _check_json(max_bytes: int, max_depth: int) -> None:
    length = request.content_length
    if length is not None and length > max_bytes:
        raise Refused("body", 413, "Request body too large", f"A JSON body may be at most {max_bytes} bytes.")
    data = request.get_data(cache=True)
    if len(data) > max_bytes:
        raise Refused("body", 413, "Request body too large", f"A JSON body may be at most {max_bytes} bytes.")
    if not data.strip():
        return
    if json_depth(data) > max_depth:
        raise Refused(
            "body", 400, "JSON nested too deeply", f"JSON bodies may nest arrays and objects at most {max_depth} deep."
        )
    try:
        parsed = json.loads(data)
    except (ValueError, RecursionError):
        return  # malformed JSON: the view answers its own 400 (request.get_json fails there)
    _walk_json(parsed, "")


def _check_pairs(pairs: Iterable[tuple[str, str]], what: str, *, text_values: bool) -> None:
    for key, value in pairs:
        _check(key, f"{what} names")
        _check(value, f"{what} {key}", text=text_values)


def inspect_request(max_json_bytes: int, max_json_depth: int) -> None:
    """Raise :class:`Refused` when the current request carries what hygiene refuses."""
    _check(request.path, "path")
    _check_pairs(request.args.items(multi=True), "query parameter", text_values=False)
    for name, value in request.headers.items():
        if _STRICT.search(value.replace("\t", " ")):
            raise Refused(f"header {name}")
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if _is_json():
            _check_json(max_json_bytes, max_json_depth)
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            _check_pairs(request.form.items(multi=True), "form field", text_values=True)
            for name, upload in request.files.items(multi=True):
                _check(name, "form field names")
                if upload.filename:
                    _check(upload.filename, "file name")


def refusal_response(exc: Refused) -> Response:
    """The 4xx answer to a refused request: problem+json for the API, the error page elsewhere."""
    if wants_problem():
        return problem(exc.status, exc.title, exc.detail, type_="refused-input")
    page = render_template("errors/error.html", code=exc.status, title=exc.title, message=exc.detail)
    return Response(page, status=exc.status, mimetype="text/html")


def init_hygiene(app: Flask) -> None:
    """Install the check as the first ``before_request`` function of the app."""

    def _hygiene() -> Response | None:
        try:
            inspect_request(int(app.config["JSON_MAX_BYTES"]), int(app.config["JSON_MAX_DEPTH"]))
        except Refused as exc:
            return refusal_response(exc)
        return None

    app.before_request_funcs.setdefault(None, []).insert(0, _hygiene)
