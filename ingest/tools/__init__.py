"""The one place papervault runs external OCR and PDF programs (OCRmyPDF keeps ``_exec/``).

One module per tool — :mod:`tesseract`, :mod:`poppler`, :mod:`zxing` — knows how to call it,
its time limits and how it fails, and translates those failures into our exceptions; no
other module imports pytesseract, pdf2image or zxingcpp or starts those programs
(``tests/unit/test_tool_adapters.py``). The local S3 server (``weed``) has its adapter in
:mod:`papervault.storage.localserver`, below this layer.
"""
