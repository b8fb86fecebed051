"""Relinking after a register import lives in :mod:`papervault.index.registers.relink`
(the web's register upload calls it too); kept here for the CLI's imports."""
from __future__ import annotations

from papervault.index.registers.relink import Relinked, relink

__all__ = ["Relinked", "relink"]
