"""Colour palettes of the 3D view: per device state, alarm priority, category, and the scene's surroundings.

Two palettes: "light" (the console's original look) and "dark", a high-performance HMI palette after
ISA-101: calm greys for everything normal, saturated colour only for abnormal states (alarms red, orange,
yellow; data-quality problems magenta and cyan). Flashing of unacknowledged alarms is done by the view.
Colours are RGB uint8; `Palette.float_rgb` gives VTK's 0..1 floats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin_app.core.model import Category

# rows of `Palette.states`
STATE_NAMES: tuple[str, ...] = ("normal", "warning", "alarm", "offline", "stale", "dimmed")
# rows of `Palette.priorities`
PRIORITY_NAMES: tuple[str, ...] = ("critical", "high", "medium", "low")
PALETTE_NAMES: tuple[str, ...] = ("light", "dark")


@dataclass(frozen=True, eq=False)
class Palette:
    """The colours of the 3D view.

    Attributes
    ----------
    name
        "light" or "dark".
    category_base, category_alt
        (6, 3) uint8: the own colour of elements of each `Category` (row = category value), and the
        alternate one (slabs, roofs, fans, alarms).
    states
        (6, 3) uint8, rows in `STATE_NAMES` order: the colour of a host in that device state.
    priorities
        (4, 3) uint8, rows in `PRIORITY_NAMES` order: incident marker colours.
    highlight, background_top, background_bottom, ground, label_text, label_box, measure, outline, halo,
    incident_label_box
        (3,) uint8 each: the selection, the sky gradient, the ground plane, building labels (text and
        box), measurement marks, the dark outline and light halo of incident markers, their labels' box.
    """

    name: str
    category_base: np.ndarray
    category_alt: np.ndarray
    states: np.ndarray
    priorities: np.ndarray
    highlight: np.ndarray
    background_top: np.ndarray
    background_bottom: np.ndarray
    ground: np.ndarray
    label_text: np.ndarray
    label_box: np.ndarray
    measure: np.ndarray
    outline: np.ndarray
    halo: np.ndarray
    incident_label_box: np.ndarray

    def state(self, name: str) -> np.ndarray:
        """The (3,) uint8 colour of a state named in `STATE_NAMES`."""
        return self.states[STATE_NAMES.index(name)]

    def priority(self, name: str) -> np.ndarray:
        """The (3,) uint8 colour of an incident priority; unknown priorities are "medium"."""
        return self.priorities[PRIORITY_NAMES.index(name) if name in PRIORITY_NAMES else 2]

    @staticmethod
    def float_rgb(rgb: np.ndarray) -> tuple[float, float, float]:
        """A uint8 colour as VTK's 0..1 floats."""
        r, g, b = (float(c) / 255.0 for c in np.asarray(rgb)[:3])
        return r, g, b

    @staticmethod
    def hex(rgb: np.ndarray) -> str:
        """A uint8 colour as "#rrggbb"."""
        r, g, b = (int(c) for c in np.asarray(rgb)[:3])
        return f"#{r:02x}{g:02x}{b:02x}"


def saturation(rgb: np.ndarray) -> np.ndarray:
    """HSV saturation (0..1) of uint8 colours of shape (..., 3)."""
    values = np.asarray(rgb, dtype=float)
    high, low = values.max(axis=-1), values.min(axis=-1)
    return np.where(high > 0, (high - low) / np.maximum(high, 1e-9), 0.0)


def _u8(rows: list[tuple[int, int, int]] | tuple[int, int, int]) -> np.ndarray:
    array = np.array(rows, dtype=np.uint8)
    array.setflags(write=False)
    return array


def _by_category(colours: dict[Category, tuple[int, int, int]]) -> np.ndarray:
    rows = [colours.get(Category(c), (128, 128, 128)) for c in range(len(Category))]
    return _u8(rows)


def _light() -> Palette:
    return Palette(
        name="light",
        category_base=_by_category({
            Category.STRUCTURE: (219, 217, 207), Category.SPACES: (158, 199, 230), Category.EQUIPMENT: (242, 153, 51),
            Category.SENSORS: (26, 191, 140), Category.OTHER: (191, 184, 166)}),
        category_alt=_by_category({
            Category.STRUCTURE: (140, 145, 153), Category.SPACES: (204, 204, 184), Category.EQUIPMENT: (179, 115, 204),
            Category.SENSORS: (242, 77, 77), Category.OTHER: (153, 153, 153)}),
        # colour-blind-safe hues (Okabe-Ito) that also differ in lightness
        states=_u8([(0, 158, 115), (230, 158, 0), (214, 38, 0), (89, 89, 97), (204, 120, 166), (240, 240, 240)]),
        priorities=_u8([(178, 24, 43), (213, 94, 0), (230, 159, 0), (0, 114, 178)]),
        highlight=_u8((255, 217, 0)),
        background_top=_u8((41, 51, 69)),
        background_bottom=_u8((13, 15, 23)),
        ground=_u8((56, 69, 61)),
        label_text=_u8((255, 255, 255)),
        label_box=_u8((27, 36, 51)),
        measure=_u8((255, 61, 127)),
        outline=_u8((17, 17, 17)),
        halo=_u8((255, 255, 255)),
        incident_label_box=_u8((16, 20, 28)),
    )


def _dark() -> Palette:
    return Palette(
        name="dark",
        # everything normal in calm, nearly neutral greys of different lightness
        category_base=_by_category({
            Category.STRUCTURE: (150, 151, 153), Category.SPACES: (118, 124, 132), Category.EQUIPMENT: (176, 176, 172),
            Category.SENSORS: (196, 196, 196), Category.OTHER: (134, 134, 132)}),
        category_alt=_by_category({
            Category.STRUCTURE: (112, 114, 118), Category.SPACES: (128, 128, 122), Category.EQUIPMENT: (146, 146, 152),
            Category.SENSORS: (160, 160, 164), Category.OTHER: (114, 114, 114)}),
        # normal is a grey; alarm red, warning yellow; data quality (offline cyan, stale magenta) also stands out
        states=_u8([(142, 150, 148), (245, 200, 0), (230, 20, 20), (0, 170, 230), (214, 0, 214), (62, 64, 67)]),
        priorities=_u8([(230, 0, 0), (255, 128, 0), (245, 210, 0), (40, 110, 255)]),
        highlight=_u8((255, 255, 255)),
        background_top=_u8((52, 55, 59)),
        background_bottom=_u8((30, 32, 35)),
        ground=_u8((64, 66, 68)),
        label_text=_u8((232, 232, 232)),
        label_box=_u8((24, 25, 27)),
        measure=_u8((120, 190, 255)),
        outline=_u8((10, 10, 10)),
        halo=_u8((235, 235, 235)),
        incident_label_box=_u8((20, 21, 23)),
    )


_PALETTES: dict[str, Palette] = {}


def palette(name: str = "light") -> Palette:
    """The palette of a theme: "light" (the original look) or "dark" (ISA-101 high-performance HMI).

    Raises
    ------
    ValueError
        For an unknown name.
    """
    if name not in PALETTE_NAMES:
        raise ValueError(f"unknown palette {name!r}; expected one of {', '.join(PALETTE_NAMES)}")
    if name not in _PALETTES:
        _PALETTES[name] = _light() if name == "light" else _dark()
    return _PALETTES[name]
