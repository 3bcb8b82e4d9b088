"""What the console shows, as one evented model that the scene, the tree, the docks and the wall overlay watch.

The window only assembles: a click, a menu or a test sets a field here, and every view that shows that field
follows through the field's signal (``state.events.<field>``), as napari's ``components`` are watched by its
``_qt`` and ``_vispy`` views. Nothing here knows Qt or VTK.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from psygnal import evented

from twin_app.core.state import DeviceState

N_STATES = len(DeviceState)
THEMES = ("dark", "light")


@evented
@dataclass
class ViewState:
    """The console's view: selection, focus, filters, presentation.

    Attributes
    ----------
    selected
        The selected element's index (-1: none).
    focus_storey
        The storey shown cut open (-1: the whole district).
    isolated
        The element (storey, tower, subtree) shown alone (-1: everything).
    xray
        Everything but the selection translucent.
    section_height
        Height in metres of the horizontal section plane (None: no section).
    measuring
        Clicks place measurement points instead of selecting.
    hidden_categories
        Names of the element categories (``Category.name``) not drawn.
    kind
        Only devices of this kind coloured (None: every kind).
    shown_states
        One flag per device state: elements in a state not shown are dimmed.
    theme
        ``dark`` (control room, ISA-101) or ``light`` (office PC).
    wall
        Wall mode: full screen, panels sized for reading from 5 m.
    scale
        Size factor of fonts, markers and lines (1 = 1920×1080 at 96 dpi).
    language
        ``en`` or ``zh_CN``.
    board
        The figures of the incident board and the wall's KPI overlay (``core.wall.WallFigures``; None before the
        first data).
    """

    selected: int = -1
    focus_storey: int = -1
    isolated: int = -1
    xray: bool = False
    section_height: float | None = None
    measuring: bool = False
    hidden_categories: frozenset[str] = frozenset()
    kind: str | None = None
    shown_states: tuple[bool, ...] = (True,) * N_STATES
    theme: str = "dark"
    wall: bool = False
    scale: float = 1.0
    language: str = "en"
    board: object | None = field(default=None, compare=False)

    def shown_mask(self) -> np.ndarray:
        """`shown_states` as a boolean array indexed by device state."""
        return np.asarray(self.shown_states, dtype=bool)

    def show_state(self, state: int, shown: bool) -> None:
        """Show or dim the elements in one device state."""
        flags = list(self.shown_states)
        flags[int(state)] = bool(shown)
        self.shown_states = tuple(flags)

    def set_category_shown(self, name: str, shown: bool) -> None:
        """Show or hide one element category."""
        self.hidden_categories = self.hidden_categories - {name} if shown else self.hidden_categories | {name}


def focus_for(selected: int, ifc_class: np.ndarray, storey: np.ndarray, structure: np.ndarray,
              current: int) -> int:
    """The storey to cut open when `selected` is chosen (the current one where the selection does not say).

    A storey opens itself; an element inside a storey opens its storey unless it is structure (a façade panel
    is seen from outside); a tower, the site or the project show the whole district.
    """
    if selected < 0:
        return current
    cls = str(ifc_class[selected])
    if cls == "IfcBuildingStorey":
        return selected
    if cls in ("IfcBuilding", "IfcSite", "IfcProject"):
        return -1
    own = int(storey[selected])
    if own >= 0 and not bool(structure[selected]):
        return own
    return current


def filter_states(element_states, rollup, kind_codes: np.ndarray, device_state: np.ndarray, kind_code: int | None,
                  shown: np.ndarray, element_state: np.ndarray, rolled: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The colours of the 3D view under the legend's filters, vectorised.

    Parameters
    ----------
    element_states, rollup
        The state store's ``element_states(device_state)`` and ``rollup(element_state)``.
    kind_codes
        Every device's kind code.
    device_state, element_state, rolled
        The engine's states (all kinds).
    kind_code
        Only this kind coloured (None: all).
    shown
        Boolean per device state: elements in a state not shown are dimmed.

    Returns
    -------
    device_state, element_state, rolled, dim
        ``dim`` is None when every state is shown.
    """
    if kind_code is not None:
        device_state = np.where(kind_codes == kind_code, device_state, 0).astype(np.uint8)
        element_state = element_states(device_state)
        rolled = rollup(element_state)
    dim = None if shown.all() else ~shown[element_state]
    return device_state, element_state, rolled, dim
