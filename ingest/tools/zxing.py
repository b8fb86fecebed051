"""The zxing-cpp adapter: the QR and Code128 codes on a page image.

Measured 35-60 ms a page near 150 dpi with every code found, where pyzbar missed Code128
and reported false codes.
"""

from __future__ import annotations

import zxingcpp
from PIL import Image

FORMATS = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)


def read_codes(img: Image.Image) -> tuple[str, ...]:
    """The texts of the valid QR/Code128 codes zxing finds on ``img``."""
    # zxing-cpp 2.3 deprecates BarcodeFormats built with |; its stubs lag behind.
    codes = zxingcpp.read_barcodes(img, formats=FORMATS)  # type: ignore[arg-type]
    return tuple(c.text for c in codes if c.valid)
