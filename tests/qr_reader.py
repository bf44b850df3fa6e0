"""Reads a QR code back as a phone's camera would: the image rendered to pixels, then a real QR decoder
(zxing-cpp) finds and decodes every code in it. An SVG is rendered by resvg, as a browser or a print shop
would draw it, so what is checked is the picture, not the markup."""

from __future__ import annotations

import io

import resvg_py
import zxingcpp
from PIL import Image


def read_qr_codes(content_type: str, body: bytes) -> list[str]:
    """The text of each QR code in an image/png or image/svg+xml body."""
    if content_type == "image/svg+xml":
        body = bytes(resvg_py.svg_to_bytes(svg_string=body.decode()))
    elif content_type != "image/png":
        raise ValueError(f"not an image this reader knows: {content_type}")
    image = Image.open(io.BytesIO(body))
    return [result.text for result in zxingcpp.read_barcodes(image) if result.format == zxingcpp.BarcodeFormat.QRCode]
