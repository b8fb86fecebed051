"""Personal-information minimisation."""

from __future__ import annotations

import typer

from papervault.config.errors import BadInput
from papervault.index.accounts import audit, privacy
from papervault.index.catalog.db import session_scope
from papervault.ingest.cli.context import out, settings_of
from papervault.ingest.runtime import audit_key, open_runtime, pi_key

app = typer.Typer(help="个人信息最小化 / PI minimisation", no_args_is_help=True)


@app.command("mask-existing")
def privacy_mask_existing(ctx: typer.Context) -> None:
    """Mask ID and card numbers in text stored before privacy.mask_numbers was turned on."""

    s = settings_of(ctx)
    key = pi_key(s)
    if key is None:
        raise BadInput(detail="privacy.mask_numbers is off: turn it on in the config first")
    rt = open_runtime(s)
    with session_scope(rt.engine) as session:
        n = privacy.mask_existing(session, key)
        audit.record(session, audit_key(s), s.actor, "privacy.mask_existing", "documents",
                     {"documents": n})
    out.print(f"已遮蔽 / masked: {n} documents")
