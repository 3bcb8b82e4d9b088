"""The console's view state: pure, evented, and the filters and focus rules the views follow."""

from __future__ import annotations

import numpy as np

from twin_app.core.state import DeviceState
from twin_app.core.view_state import ViewState, filter_states, focus_for


def test_each_field_signals_its_own_change_once() -> None:
    view = ViewState()
    seen: list[tuple[str, object]] = []
    view.events.connect(lambda info: seen.append((info.signal.name, info.args[0])))
    view.selected = 5
    view.selected = 5  # no change: no signal
    view.xray = True
    view.set_category_shown("SPACES", False)
    view.show_state(DeviceState.NORMAL, False)
    assert seen == [("selected", 5), ("xray", True), ("hidden_categories", frozenset({"SPACES"})),
                    ("shown_states", tuple(s != DeviceState.NORMAL for s in range(len(DeviceState))))]
    view.set_category_shown("SPACES", True)
    assert view.hidden_categories == frozenset()
    assert not view.shown_mask()[DeviceState.NORMAL] and view.shown_mask()[DeviceState.ALARM]


def test_focus_follows_what_is_selected() -> None:
    ifc_class = np.array(["IfcSite", "IfcBuilding", "IfcBuildingStorey", "IfcSpace", "IfcWall", "IfcBuildingStorey"])
    storey = np.array([-1, -1, 2, 2, 2, 5])
    structure = np.array([False, False, False, False, True, False])
    assert focus_for(-1, ifc_class, storey, structure, current=5) == 5  # nothing selected: the focus stays
    assert focus_for(2, ifc_class, storey, structure, current=-1) == 2  # a storey opens itself
    assert focus_for(3, ifc_class, storey, structure, current=5) == 2  # a room opens its storey
    assert focus_for(4, ifc_class, storey, structure, current=5) == 5  # a wall is seen from where one is
    assert focus_for(1, ifc_class, storey, structure, current=2) == -1  # a tower: the whole district
    assert focus_for(0, ifc_class, storey, structure, current=2) == -1


def test_filters_keep_one_kind_and_dim_the_states_not_shown() -> None:
    # three devices on three elements: device 0 (kind 0) alarm, device 1 (kind 1) warning, device 2 (kind 0) normal
    kind_codes = np.array([0, 1, 0])
    device_state = np.array([DeviceState.ALARM, DeviceState.WARNING, DeviceState.NORMAL], dtype=np.uint8)

    def element_states(states: np.ndarray) -> np.ndarray:
        return np.asarray(states, dtype=np.uint8)  # one device per element here

    def rollup(states: np.ndarray) -> np.ndarray:
        return np.array([states.max()], dtype=np.uint8)

    shown = np.ones(len(DeviceState), dtype=bool)
    devices, elements, rolled, dim = filter_states(element_states, rollup, kind_codes, device_state, None, shown,
                                                   device_state, rollup(device_state))
    assert dim is None and (elements == device_state).all()
    devices, elements, rolled, dim = filter_states(element_states, rollup, kind_codes, device_state, 1, shown,
                                                   device_state, rollup(device_state))
    assert list(devices) == [0, DeviceState.WARNING, 0] and rolled[0] == DeviceState.WARNING
    shown[DeviceState.NORMAL] = False
    _, elements, _, dim = filter_states(element_states, rollup, kind_codes, device_state, None, shown,
                                        device_state, rollup(device_state))
    assert list(dim) == [False, False, True]  # only the normal element is dimmed
