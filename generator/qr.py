"""QR codes of order pages, as SVG (segno): drawn by the browser, no script, any size.

segno is imported on the first code made: a build that renders nothing never loads it.
"""

from __future__ import annotations

import io

# M recovers about 15 % of the symbol: a poster gets scratched, folded and photographed
# at an angle. segno raises it when the URL fits the same size at a higher level.
ERROR_LEVEL = "m"
QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 asks


def svg(url: str) -> bytes:
    """The QR code of `url`: black modules on white, sized by its viewBox alone (one unit
    a module), so that the page sets its size."""
    import segno

    code = segno.make_qr(url, error=ERROR_LEVEL)
    out = io.BytesIO()
    code.save(out, kind="svg", border=QUIET_ZONE, dark="#000", light="#fff",
              xmldecl=False, omitsize=True, svgclass=None, lineclass=None)
    return out.getvalue()
