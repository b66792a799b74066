"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

Written by hand next to the validators in ``schemas.py`` (the limits come from the same
constants), and checked against the running service by the schemathesis tests.
"""

from __future__ import annotations

from typing import Any

from moderation.api import schemas

ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _text(max_length: int, min_length: int = 1, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "minLength": min_length, "maxLength": max_length, **extra}


PAGE_PARAMS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
]
SITE_AUTH = [{"siteKey": []}]
#: The site's server, or its widget from a registered origin.
POSTING_AUTH = [{"siteKey": []}, {"widgetKey": []}]
MODERATOR_AUTH = [{"moderatorToken": []}]
COMMON_ERRORS = {
    "400": _error("Malformed JSON or invalid UTF-8"),
    "401": _error("Missing or wrong credentials"),
    "403": _error("Widget key used from an origin not registered for the site"),
    "413": _error("Body too large"),
    "422": _error("Invalid fields (each named in `fields`)"),
    "429": _error("Too many posts from this reader or author (see Retry-After)"),
    "503": _error("Storage unavailable"),
}


def spec(max_content: int, max_name: int) -> dict[str, Any]:
    """The description, with the answers every operation can give added to each."""
    described = _spec(max_content, max_name)
    for item in described["paths"].values():
        for operation in item.values():
            # NUL characters in a URL are refused before any route runs.
            operation["responses"].setdefault(
                "400", _error("Malformed request (e.g. NUL characters in the URL)")
            )
    return described


def _spec(max_content: int, max_name: int) -> dict[str, Any]:
    comment_id = {"name": "comment_id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Moderation API",
            "version": "1",
            "description": "Comment moderation for Vietnamese news sites (see CONTRACT.md).",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "siteKey": {"type": "http", "scheme": "bearer", "description": "The site's API key"},
                "widgetKey": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "key",
                    "description": "The site's public widget key; only from the site's registered origins",
                },
                "moderatorToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from POST /moderation/token",
                },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                            },
                        }
                    },
                },
                "NewComment": {
                    "type": "object",
                    "required": ["article_id", "author", "content"],
                    "properties": {
                        "article_id": _text(schemas.MAX_ARTICLE_ID),
                        "article_title": _text(schemas.MAX_TITLE),
                        "article_url": _text(schemas.MAX_URL, pattern="^https?://"),
                        "parent_id": _text(schemas.MAX_PARENT_ID),
                        "author": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": _text(max_name),
                                "email": {"type": "string", "format": "email", "maxLength": 254},
                            },
                        },
                        "content": _text(max_content),
                        "client": {
                            "type": "object",
                            "properties": {
                                "ip": {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
                                "user_agent": {"type": "string"},
                                "referrer": {"type": "string"},
                            },
                        },
                    },
                },
                "Accepted": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {"id": {"type": "string"}, "status": {"const": "pending"}},
                },
                "Analysis": {
                    "type": "object",
                    "required": ["model_version", "attributes", "spans", "decision", "reasons"],
                    "properties": {
                        "id": {},
                        "model_version": {"type": "string"},
                        "attributes": {"type": "object"},
                        "spans": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["start", "end", "text"],
                                "properties": {
                                    "start": {"type": "integer"},
                                    "end": {"type": "integer"},
                                    "text": {"type": "string"},
                                },
                            },
                        },
                        "decision": {"enum": ["publish", "review", "reject"]},
                        "reasons": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "Comment": {
                    "type": "object",
                    "required": ["id", "status", "article_id", "content", "author", "created_at"],
                    "properties": {
                        "id": {"type": "string"},
                        "status": {"enum": ["pending", "published", "review", "rejected"]},
                        "article_id": {"type": "string"},
                        "parent_id": {"type": ["string", "null"]},
                        "content": {"type": "string"},
                        "author": {"type": "object", "properties": {"name": {"type": "string"}}},
                        "created_at": {"type": "string"},
                        "analysis": {"$ref": "#/components/schemas/Analysis"},
                        "decision": {"type": "object"},
                    },
                },
                "Page": {
                    "type": "object",
                    "required": ["items", "total", "page", "per_page"],
                    "properties": {
                        "items": {"type": "array"},
                        "total": {"type": "integer"},
                        "page": {"type": "integer"},
                        "per_page": {"type": "integer"},
                    },
                },
            },
        },
        "paths": {
            "/comments": {
                "post": {
                    "summary": "Submit a comment; answered once it is stored",
                    "security": POSTING_AUTH,
                    "requestBody": {"required": True, **_json({"$ref": "#/components/schemas/NewComment"})},
                    "responses": {
                        "202": {
                            "description": "Stored, waiting to be scored",
                            **_json({"$ref": "#/components/schemas/Accepted"}),
                        },
                        **COMMON_ERRORS,
                    },
                }
            },
            "/comments/{comment_id}": {
                "get": {
                    "summary": "One comment of this site, with its analysis and decision",
                    "security": SITE_AUTH,
                    "parameters": [comment_id],
                    "responses": {
                        "200": {
                            "description": "The comment",
                            **_json({"$ref": "#/components/schemas/Comment"}),
                        },
                        "401": COMMON_ERRORS["401"],
                        "404": _error("No such comment for this site"),
                        "503": COMMON_ERRORS["503"],
                    },
                }
            },
            "/articles/{article_id}/comments": {
                "get": {
                    "summary": "Published comments of an article, oldest first, replies nested",
                    "security": [{}, *POSTING_AUTH],
                    "parameters": [
                        {"name": "article_id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "site", "in": "query", "schema": {"type": "string"}},
                        {"name": "key", "in": "query", "schema": {"type": "string"}},
                        *PAGE_PARAMS,
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of threads",
                            **_json({"$ref": "#/components/schemas/Page"}),
                        },
                        "401": COMMON_ERRORS["401"],
                        "404": _error("No such site"),
                        "422": COMMON_ERRORS["422"],
                    },
                }
            },
            "/comments/{comment_id}/status": {
                "get": {
                    "summary": "Only the status of a comment: the widget follows the reader's own",
                    "security": POSTING_AUTH,
                    "parameters": [comment_id],
                    "responses": {
                        "200": {
                            "description": "Its status",
                            **_json(
                                {
                                    "type": "object",
                                    "required": ["id", "status"],
                                    "properties": {
                                        "id": {"type": "string"},
                                        "status": {"enum": ["pending", "published", "review", "rejected"]},
                                    },
                                }
                            ),
                        },
                        "401": COMMON_ERRORS["401"],
                        "403": COMMON_ERRORS["403"],
                        "404": _error("No such comment for this site"),
                    },
                }
            },
            "/comments/{comment_id}/reports": {
                "post": {
                    "summary": "A reader reports a published comment (moderators' reported queue)",
                    "security": POSTING_AUTH,
                    "parameters": [comment_id],
                    "requestBody": {
                        "required": True,
                        **_json({"type": "object", "properties": {"reason": _text(200)}}),
                    },
                    "responses": {
                        "202": {"description": "Reported"},
                        **COMMON_ERRORS,
                        "404": _error("No such published comment"),
                    },
                }
            },
            "/widget/config": {
                "get": {
                    "summary": "The widget's form settings and a signed note of when the form opened",
                    "security": [{"widgetKey": []}],
                    "responses": {
                        "200": {"description": "Settings"},
                        "401": COMMON_ERRORS["401"],
                        "403": COMMON_ERRORS["403"],
                    },
                }
            },
            "/analyze": {
                "post": {
                    "summary": "Score up to 1,000 texts with the site's policy; nothing is stored",
                    "security": SITE_AUTH,
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "required": ["comments"],
                                "properties": {
                                    "comments": {
                                        "type": "array",
                                        "minItems": 1,
                                        "maxItems": schemas.MAX_ANALYZE_BATCH,
                                        "items": {
                                            "type": "object",
                                            "required": ["content"],
                                            "properties": {
                                                "id": {"type": ["string", "integer"]},
                                                "content": _text(max_content, min_length=0),
                                            },
                                        },
                                    }
                                },
                            }
                        ),
                    },
                    "responses": {
                        "200": {
                            "description": "One analysis per comment, in order",
                            **_json(
                                {
                                    "type": "object",
                                    "properties": {
                                        "results": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Analysis"},
                                        }
                                    },
                                }
                            ),
                        },
                        **COMMON_ERRORS,
                    },
                }
            },
            "/moderation/token": {
                "post": {
                    "summary": "Exchange a moderator's username and password for a bearer token",
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "required": ["username", "password"],
                                "properties": {"username": _text(80), "password": _text(1024)},
                            }
                        ),
                    },
                    "responses": {
                        "200": {"description": "A token and when it expires"},
                        "400": COMMON_ERRORS["400"],
                        "401": _error("Wrong username or password, or the account is locked"),
                        "403": _error("The account is deactivated"),
                        "422": COMMON_ERRORS["422"],
                        "429": _error("Too many sign-in attempts from this address (see Retry-After)"),
                    },
                }
            },
            "/moderation/queue": {
                "get": {
                    "summary": "Comments in a status (default: held for review)",
                    "security": MODERATOR_AUTH,
                    "parameters": [
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"enum": ["pending", "published", "review", "rejected"]},
                        },
                        {"name": "order", "in": "query", "schema": {"enum": ["oldest", "newest"]}},
                        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                        {
                            "name": "per_page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of comments",
                            **_json({"$ref": "#/components/schemas/Page"}),
                        },
                        "401": COMMON_ERRORS["401"],
                        "422": COMMON_ERRORS["422"],
                    },
                }
            },
            "/moderation/comments/{comment_id}/decision": {
                "post": {
                    "summary": "Approve or reject a comment (audit-logged)",
                    "security": MODERATOR_AUTH,
                    "parameters": [comment_id],
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "required": ["action"],
                                "properties": {
                                    "action": {"enum": ["approve", "reject"]},
                                    "reason": _text(500),
                                },
                            }
                        ),
                    },
                    "responses": {
                        "200": {"description": "The decided comment"},
                        "400": COMMON_ERRORS["400"],
                        "401": COMMON_ERRORS["401"],
                        "404": _error("No such comment visible to this moderator"),
                        "409": _error("Already decided by a moderator"),
                        "422": COMMON_ERRORS["422"],
                    },
                }
            },
        },
    }
