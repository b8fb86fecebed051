"""Decrypted downloads and page thumbnails, without plaintext ever touching the disk.

Downloads stream ``store.iter_plaintext`` straight into the response; thumbnails are
rendered from the decrypted bytes in memory (PDF pages by ``pdftoppm`` reading stdin and
writing stdout).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import subprocess
import threading
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from PIL import Image

from papervault.config.errors import BadInput, NotFound, PapervaultError
from papervault.index.archive import get_document, stored_file, thumbnails_file
from papervault.index.catalog.db import session_scope
from papervault.index.web.deps import audit, principal_of
from papervault.storage.errors import IntegrityError
from papervault.storage.objects import ObjectStore

THUMB_MAX = 1600
THUMB_STORED = 400  # the worker's thumbnails are this wide (ingest/stages/thumbs.py)
# The index keeps short type names; browsers need the real ones (review L5).
MIME = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg",
        "tiff": "image/tiff"}
MAX_RENDER_BYTES = 200 * 1024 * 1024  # larger originals are not thumbnailed in memory
# A large view decrypts the whole file into memory (up to MAX_RENDER_BYTES); review M10
# saw 40 at once add a gigabyte. Two at a time per process; the rest wait their turn.
_WHOLE_FILE_RENDERS = threading.BoundedSemaphore(2)


def download(request: Request, doc_id: int, searchable: bool) -> StreamingResponse:
    """Stream the decrypted original (or searchable PDF), audited once its first segment
    has decrypted: a missing, truncated or swapped object answers with an error page, not
    ``200`` and an empty body (M3), and its audit row says the download failed."""
    state = request.app.state
    with session_scope(state.engine) as session:
        doc = get_document(session, doc_id, principal_of(request).scope)
        f = stored_file(doc, searchable)
    store: ObjectStore = state.store
    chunks = store.iter_plaintext(f.object_name, f.wrapped)
    detail: dict[str, object] = {"searchable": searchable, "client_id": doc.client_id}
    try:
        first = next(chunks, b"")
        if not first:  # nothing stored is empty: intake quarantines empty files
            raise IntegrityError("download_empty", name=f.object_name)
    except PapervaultError as e:
        with session_scope(state.engine) as session:
            audit(request, session, "download.failed", f"document:{doc_id}",
                  {**detail, "reason": e.key})
        raise
    with session_scope(state.engine) as session:
        audit(request, session, "download", f"document:{doc_id}", detail)
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(f.filename)}",
        "Cache-Control": "no-store",
    }
    if f.sha256:
        headers["X-Content-SHA256"] = f.sha256
    return StreamingResponse(itertools.chain([first], chunks),
                             media_type=MIME.get(f.media_type, "application/octet-stream"),
                             headers=headers)


def thumbnail(request: Request, doc_id: int, page_no: int, width: int) -> Response:
    """A JPEG of one page, ``width`` pixels wide."""
    if not 1 <= width <= THUMB_MAX or page_no < 1:
        raise BadInput(detail=f"1 ≤ w ≤ {THUMB_MAX}, page ≥ 1")
    state = request.app.state
    with session_scope(state.engine) as session:
        doc = get_document(session, doc_id, principal_of(request).scope)
        if doc.page_count is not None and page_no > doc.page_count:
            raise NotFound(what=f"page {page_no} of document {doc_id}")
        # The worker's small thumbnails when they serve (M10: no page view decrypts the
        # whole file); else render from the searchable PDF, one path for every format.
        small = thumbnails_file(doc) if width <= THUMB_STORED else None
        f = small or stored_file(doc, searchable=bool(doc.searchable_object_name))
        if small is None and doc.size > MAX_RENDER_BYTES:
            raise BadInput(detail="too large to preview")
    store: ObjectStore = state.store
    with _WHOLE_FILE_RENDERS if small is None else contextlib.nullcontext():
        data = b"".join(store.iter_plaintext(f.object_name, f.wrapped))
        jpeg = (_pdf_page(data, page_no, width) if f.media_type == "application/pdf"
                else _image_page(data, page_no, width))
    return Response(jpeg, media_type="image/jpeg",
                    headers={"Cache-Control": "private, max-age=300"})


def _pdf_page(data: bytes, page_no: int, width: int) -> bytes:
    try:
        proc = subprocess.run(
            ["pdftoppm", "-f", str(page_no), "-l", str(page_no), "-scale-to-x", str(width),
             "-scale-to-y", "-1", "-jpeg", "-singlefile", "-"],
            input=data, capture_output=True, timeout=60, check=True,
        )
    except subprocess.CalledProcessError as e:
        raise NotFound(what=f"page {page_no}") from e
    if not proc.stdout:
        raise NotFound(what=f"page {page_no}")
    return proc.stdout


def _image_page(data: bytes, page_no: int, width: int) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        try:
            img.seek(page_no - 1)  # multi-page TIFF
        except EOFError as e:
            raise NotFound(what=f"page {page_no}") from e
        page = img.convert("RGB")
    page.thumbnail((width, width * 4))
    buf = io.BytesIO()
    page.save(buf, format="JPEG", quality=80)
    return buf.getvalue()
