"""Strict parsing of request bodies into service inputs; every problem names its field."""

from __future__ import annotations

import ipaddress
import json
import re
import unicodedata
from typing import Any

from flask import Request
from werkzeug.exceptions import HTTPException

from moderation.api.errors import BadRequest
from moderation.errors import ValidationError
from moderation.services import CommentSubmission

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s]{1,63}$")
MAX_ARTICLE_ID = 200
MAX_TITLE = 500
MAX_URL = 2000
MAX_PARENT_ID = 64
MAX_USER_AGENT = 500
MAX_REFERRER = 2000
MAX_ANALYZE_BATCH = 1000


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


#: Where a request's decoded body (or the error decoding it) is kept: the door reads the body for
#: its limits before the view does, and a body is decoded once.
_PARSED = "moderation.parsed_json"


def parse_json(request: Request) -> Any:
    """Decode the body as strict UTF-8 JSON (no NaN, bounded nesting) or raise a 400 (once per request)."""
    parsed = request.environ.get(_PARSED)
    if parsed is None:
        try:
            parsed = (_decode_json(request),)
        except (BadRequest, HTTPException) as exc:  # not JSON, not UTF-8, too large...
            parsed = exc
        request.environ[_PARSED] = parsed
    if isinstance(parsed, Exception):
        raise parsed
    return parsed[0]


def _decode_json(request: Request) -> Any:
    if not request.is_json:
        raise BadRequest("the body must be JSON (Content-Type: application/json)")
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not valid UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise BadRequest("the body is empty")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise BadRequest("the JSON is nested too deeply") from None
    except ValueError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _bad_chars(value: str) -> str | None:
    if "\x00" in value:
        return "must not contain NUL characters"
    if _SURROGATE.search(value):
        return "must not contain unpaired surrogates"
    return None


class FieldReader:
    """Collects every field error of one object before raising them together."""

    def __init__(self, data: dict[str, Any], prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix
        self.errors: dict[str, str] = {}

    def string(
        self, key: str, *, required: bool = False, max_chars: int, min_chars: int = 1, strip: bool = True
    ) -> str | None:
        name = self.prefix + key
        value = self.data.get(key)
        if value is None:
            if required:
                self.errors[name] = "is required"
            return None
        if not isinstance(value, str):
            self.errors[name] = f"must be a string, not {type(value).__name__}"
            return None
        problem = _bad_chars(value)
        if problem:
            self.errors[name] = problem
            return None
        checked = value.strip() if strip else value
        length = len(unicodedata.normalize("NFC", checked))
        if length < min_chars:
            self.errors[name] = (
                "must not be empty" if required or min_chars == 1 else f"at least {min_chars} characters"
            )
            return None
        if length > max_chars:
            self.errors[name] = f"at most {max_chars} characters (got {length})"
            return None
        return checked

    def object(self, key: str, *, required: bool = False) -> dict[str, Any] | None:
        name = self.prefix + key
        value = self.data.get(key)
        if value is None:
            if required:
                self.errors[name] = "is required"
            return None
        if not isinstance(value, dict):
            self.errors[name] = f"must be an object, not {type(value).__name__}"
            return None
        return value

    def merge(self, other: FieldReader) -> None:
        self.errors.update(other.errors)


def _require_object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError("the body must be a JSON object", fields={"body": "must be an object"})
    return data


def _clip(value: Any, limit: int) -> str | None:
    """Client metadata is passed through from browsers: keep it, clipped, rather than refuse the comment."""
    if not isinstance(value, str) or not value or _bad_chars(value):
        return None
    return value[:limit]


def comment_submission(data: Any, *, max_content: int, max_name: int) -> CommentSubmission:
    fields = FieldReader(_require_object(data))
    article_id = fields.string("article_id", required=True, max_chars=MAX_ARTICLE_ID)
    title = fields.string("article_title", max_chars=MAX_TITLE)
    url = fields.string("article_url", max_chars=MAX_URL)
    if url is not None and not url.startswith(("http://", "https://")):
        fields.errors["article_url"] = "must be an http(s) URL"
    parent_id = fields.string("parent_id", max_chars=MAX_PARENT_ID)
    content = fields.string("content", required=True, max_chars=max_content, strip=False)
    if content is not None and not content.strip():
        fields.errors["content"] = "must not be empty"
    author = fields.object("author", required=True)
    name = email = None
    if author is not None:
        author_fields = FieldReader(author, "author.")
        name = author_fields.string("name", required=True, max_chars=max_name)
        email = author_fields.string("email", max_chars=254)
        if email is not None and not EMAIL_RE.match(email):
            author_fields.errors["author.email"] = "is not an email address"
        fields.merge(author_fields)
    client = fields.object("client")
    ip = user_agent = referrer = None
    if client is not None:
        raw_ip = client.get("ip")
        if raw_ip is not None:
            try:
                ip = str(ipaddress.ip_address(raw_ip)) if isinstance(raw_ip, str) else None
            except ValueError:
                ip = None
            if ip is None:
                fields.errors["client.ip"] = "must be an IPv4 or IPv6 address"
        user_agent = _clip(client.get("user_agent"), MAX_USER_AGENT)
        referrer = _clip(client.get("referrer"), MAX_REFERRER)
    if fields.errors:
        raise ValidationError("invalid fields", fields=fields.errors)
    assert article_id is not None and content is not None and name is not None
    return CommentSubmission(
        article_id=article_id,
        content=content,
        author_name=name,
        author_email=email.lower() if email else None,
        article_title=title,
        article_url=url,
        parent_id=parent_id,
        client_ip=ip,
        user_agent=user_agent,
        referrer=referrer,
    )


def analyze_request(data: Any, *, max_content: int) -> tuple[list[Any], list[str]]:
    body = _require_object(data)
    comments = body.get("comments")
    if not isinstance(comments, list):
        raise ValidationError("invalid fields", fields={"comments": "must be a list"})
    if not 1 <= len(comments) <= MAX_ANALYZE_BATCH:
        raise ValidationError(
            "invalid fields", fields={"comments": f"must hold 1 to {MAX_ANALYZE_BATCH} comments"}
        )
    ids: list[Any] = []
    texts: list[str] = []
    errors: dict[str, str] = {}
    for index, item in enumerate(comments):
        if not isinstance(item, dict):
            errors[f"comments[{index}]"] = "must be an object"
            continue
        reader = FieldReader(item, f"comments[{index}].")
        content = reader.string("content", required=True, max_chars=max_content, min_chars=0, strip=False)
        comment_id = item.get("id")
        if comment_id is not None and (isinstance(comment_id, bool) or not isinstance(comment_id, str | int)):
            reader.errors[f"comments[{index}].id"] = "must be a string or an integer"
        errors.update(reader.errors)
        ids.append(comment_id)
        texts.append(content or "")
    if errors:
        raise ValidationError("invalid fields", fields=errors)
    return ids, texts


def report_reason(data: Any) -> str | None:
    fields = FieldReader(_require_object(data))
    reason = fields.string("reason", max_chars=200)
    if fields.errors:
        raise ValidationError("invalid fields", fields=fields.errors)
    return reason


def client_ip(data: Any) -> str | None:
    """``client.ip`` of a site server's request body, when present and valid."""
    client = data.get("client") if isinstance(data, dict) else None
    raw = client.get("ip") if isinstance(client, dict) else None
    try:
        return str(ipaddress.ip_address(raw)) if isinstance(raw, str) else None
    except ValueError:
        return None


def decision_request(data: Any) -> tuple[str, str | None]:
    fields = FieldReader(_require_object(data))
    action = fields.string("action", required=True, max_chars=20)
    reason = fields.string("reason", max_chars=500)
    if action is not None and action not in ("approve", "reject"):
        fields.errors["action"] = "must be approve or reject"
    if fields.errors:
        raise ValidationError("invalid fields", fields=fields.errors)
    assert action is not None
    return action, reason


def login_request(data: Any) -> tuple[str, str]:
    fields = FieldReader(_require_object(data))
    username = fields.string("username", required=True, max_chars=80)
    password = fields.string("password", required=True, max_chars=1024, strip=False)
    if fields.errors:
        raise ValidationError("invalid fields", fields=fields.errors)
    assert username is not None and password is not None
    return username, password


def page_args(args: Any, *, default_per_page: int = 20, max_per_page: int = 100) -> tuple[int, int]:
    errors = {}
    values = {}
    for key, default, upper in (("page", 1, 1_000_000), ("per_page", default_per_page, max_per_page)):
        raw = args.get(key)
        if raw is None:
            values[key] = default
            continue
        try:
            value = int(raw)
        except ValueError:
            errors[key] = "must be an integer"
            continue
        if not 1 <= value <= upper:
            errors[key] = f"must be between 1 and {upper}"
            continue
        values[key] = value
    if errors:
        raise ValidationError("invalid query parameters", fields=errors)
    return values["page"], values["per_page"]
