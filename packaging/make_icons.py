"""Render assets/twin-app.svg into the PNG and ICO files the packages use (run after changing the SVG).

    .venv/bin/python packaging/make_icons.py

Writes assets/twin-app.png (256 px, the README and the window), assets/icons/twin-app-{16..256}.png (the .deb's
hicolor theme) and assets/twin-app.ico (the Windows executable and installer: PNG images in an ICO container).
Qt renders the SVG (QtSvg, offscreen): no other tool is needed.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "assets" / "twin-app.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(renderer: QSvgRenderer, size: int) -> bytes:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise SystemExit(f"cannot encode the {size} px PNG")
    return bytes(data)


def ico(images: dict[int, bytes]) -> bytes:
    """An ICO file holding PNG images (Windows Vista and later read them)."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, blobs = b"", b""
    for size, png in sorted(images.items()):
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), offset + len(blobs))
        blobs += png
    return header + entries + blobs


def main() -> int:
    _app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"{SVG}: not a valid SVG")
    pngs = {size: render(renderer, size) for size in sorted(set(SIZES) | set(ICO_SIZES))}
    (ROOT / "assets" / "icons").mkdir(exist_ok=True)
    for size in SIZES:
        (ROOT / "assets" / "icons" / f"twin-app-{size}.png").write_bytes(pngs[size])
    (ROOT / "assets" / "twin-app.png").write_bytes(pngs[256])
    (ROOT / "assets" / "twin-app.ico").write_bytes(ico({size: pngs[size] for size in ICO_SIZES}))
    listed = ",".join(map(str, SIZES))
    print(f"wrote assets/twin-app.png, assets/twin-app.ico and assets/icons/twin-app-{{{listed}}}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
