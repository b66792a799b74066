"""Security headers on every dashboard response: a strict CSP, no sniffing, no framing, no caching."""

from __future__ import annotations

from flask import Response, request

from moderation.dashboard import bp

#: Scripts and styles come only from our own static files: no inline code, no CDN.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


@bp.after_request
def security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "dashboard.static":
        # Pages show readers' comments to signed-in staff: never keep them in shared or disk caches.
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
    return response
