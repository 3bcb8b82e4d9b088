"""A font with Chinese glyphs for VTK's text actors.

VTK's built-in fonts (Arial, Courier, Times) have no CJK glyphs: hanzi are drawn as nothing at all.
VTK's FreeType renderer reads a TrueType collection (.ttc) too (its first face); the first face of
Noto Sans CJK (Debian and Ubuntu package `fonts-noto-cjk`) is the Japanese one, which still draws every
common simplified-Chinese hanzi, with Latin letters and digits as well.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import vtk

# Well-known places of Noto Sans CJK (Debian/Ubuntu fonts-noto-cjk, Fedora, Arch, macOS Homebrew, Windows).
CJK_FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
FONTCONFIG_PATTERN = "Noto Sans CJK SC"


def _from_fontconfig() -> Path | None:
    """The file fontconfig picks for Noto Sans CJK SC, when it is a CJK font at all."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        found = subprocess.run([fc_match, "-f", "%{file}", FONTCONFIG_PATTERN], capture_output=True, text=True,
                               timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    # fontconfig always answers something; only a CJK font will do (not DejaVu as a fallback)
    if found and any(key in Path(found).name.lower() for key in ("cjk", "wqy", "droidsansfallback", "msyh")):
        path = Path(found)
        return path if path.is_file() else None
    return None


@functools.cache
def cjk_font_file() -> Path | None:
    """The font file with Chinese glyphs that VTK text uses, None when the machine has none (cached).

    Returns
    -------
    Path or None
        Noto Sans CJK from a well-known place, else the file fontconfig names for "Noto Sans CJK SC".
    """
    for candidate in CJK_FONT_CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path
    return _from_fontconfig()


def apply_font(text_property: vtk.vtkTextProperty) -> None:
    """Draw a text property's text with the CJK font, when there is one (else VTK's default stays).

    Parameters
    ----------
    text_property
        The property of a text actor, a label hierarchy or a caption.
    """
    path = cjk_font_file()
    if path is None:
        return
    text_property.SetFontFamily(vtk.VTK_FONT_FILE)
    text_property.SetFontFile(str(path))
