"""QR codes for the board (play links) and the pilots' sheet (publish links), as inline SVG.

The SVG comes from the ``qrcode`` package's own path renderer (``qrcode.image.svg.SvgPathImage``);
this module only makes it fit for inlining in HTML: no fixed size in millimetres (CSS sizes it), an
accessible ``<title>``, a white background so phones read it on any page colour, crisp edges.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import qrcode
from qrcode.image.svg import SvgPathImage

SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG_NS)


def qr_svg(data: str, title: str) -> str:
    """A QR code of ``data`` as an inline SVG element (error correction M, 2-module quiet zone)."""
    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M, image_factory=SvgPathImage)
    qr.add_data(data)
    qr.make(fit=True)
    root = ET.fromstring(qr.make_image().to_string(encoding="unicode"))
    for attr in ("width", "height"):
        root.attrib.pop(attr, None)
    root.set("role", "img")
    root.set("shape-rendering", "crispEdges")
    size = root.get("viewBox", "0 0 0 0").split()[2]
    title_el = ET.Element(f"{{{SVG_NS}}}title")
    title_el.text = title  # ElementTree escapes it
    background = ET.Element(f"{{{SVG_NS}}}rect", {"width": size, "height": size, "fill": "#fff"})
    root.insert(0, background)
    root.insert(0, title_el)
    for path in root.iter(f"{{{SVG_NS}}}path"):
        path.set("fill", "#000")
    return ET.tostring(root, encoding="unicode")
