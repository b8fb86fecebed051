"""One-time messages across POST-redirect-GET: the action redirects with a flash cookie,
the next page shows it once.

The cookie holds a catalogue key (``notice_…`` or ``flash_…``) and its parameters, never
free text: a forged cookie can only show one of the office's own messages, escaped.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from fastapi.responses import RedirectResponse

from papervault.config.messages import CATALOGUE

FLASH_COOKIE = "pv_flash"
Kind = Literal["success", "danger", "warning", "info"]


@dataclass(frozen=True)
class Flash:
    key: str
    kind: Kind
    params: dict[str, str]


def redirect(url: str, key: str | None = None, kind: Kind = "success",
             **params: object) -> RedirectResponse:
    """303 to ``url``, carrying the message ``key`` for the page it lands on."""
    response = RedirectResponse(url, status_code=303)
    if key is not None:
        payload = json.dumps({"k": key, "c": kind, "p": {k: str(v) for k, v in params.items()}})
        response.set_cookie(FLASH_COOKIE, base64.urlsafe_b64encode(payload.encode()).decode(),
                            max_age=60, samesite="strict", httponly=True, path="/")
    return response


def take_flash(request: Request) -> Flash | None:
    """The message waiting for this page (marks the cookie for removal), or None."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    request.state.flash_taken = True
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
        key, kind, params = str(data["k"]), str(data["c"]), dict(data["p"])
    except (ValueError, KeyError, TypeError):
        return None
    if not key.startswith(("notice_", "flash_")) or key not in CATALOGUE \
            or kind not in ("success", "danger", "warning", "info"):
        return None
    return Flash(key, kind, {str(k): str(v) for k, v in params.items()})  # type: ignore[arg-type]
