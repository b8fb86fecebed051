"""The shape of a catalogue entry."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]
Entry = dict[Lang, str]
