"""The state store: thresholds, stale and offline, roll-up (no display, no broker)."""

from __future__ import annotations

import numpy as np
import pytest

from twin_app.core.state import MIN_STALE_S, DeviceState, classify


def test_classify_against_limits_with_missing_ones() -> None:
    nan = np.nan
    values = np.array([5.0, 31.0, 55.0, 10.0, 0.05, 3.0])
    lo2 = np.array([nan, nan, nan, 2.0, nan, nan])
    lo1 = np.array([nan, nan, nan, 12.0, nan, nan])
    hi1 = np.array([30.0, 30.0, 30.0, nan, nan, nan])
    hi2 = np.array([50.0, 50.0, 50.0, nan, nan, nan])
    assert classify(values, lo2, lo1, hi1, hi2).tolist() == [
        DeviceState.NORMAL, DeviceState.WARNING, DeviceState.ALARM, DeviceState.WARNING, DeviceState.NORMAL,
        DeviceState.NORMAL]


@pytest.fixture
def store(small_index):
    from twin_app.core.state import StateStore

    return StateStore(small_index)


def test_apply_stale_offline_and_rollup(store, small_index) -> None:
    d = small_index.devices
    all_co = np.flatnonzero((d["kind"] == "co").to_numpy())
    first_per_gateway = np.unique(d["gateway"].to_numpy()[all_co], return_index=True)[1]
    co = all_co[np.sort(first_per_gateway)[:3]]  # three CO devices behind three different gateways
    store.apply(co, np.array([10.0, 35.0, 60.0]), 1000.0)
    states = store.states(now=1001.0)
    assert states[co].tolist() == [DeviceState.NORMAL, DeviceState.WARNING, DeviceState.ALARM]
    assert (states[np.setdiff1d(np.arange(store.n_devices), co)] == DeviceState.NO_DATA).all()
    # a late reading does not overwrite a newer one
    store.apply(co[:1], np.array([99.0]), 900.0)
    assert store.value[co[0]] == 10.0
    # stale after three report periods (co reports every 10 s), never sooner than MIN_STALE_S
    assert store.states(now=1000.0 + MIN_STALE_S - 1)[co[0]] == DeviceState.NORMAL
    assert store.states(now=1000.0 + MIN_STALE_S + 1)[co[0]] == DeviceState.STALE
    gateway = str(d["gateway"].iat[co[2]])
    assert store.set_gateway(gateway, False) and not store.set_gateway("NO-SUCH-GATEWAY", False)
    states = store.states(now=1001.0)
    assert states[co[2]] == DeviceState.OFFLINE
    element = store.element_states(states)
    rolled = store.rollup(element)
    model = small_index.model
    host = small_index.host_element[co[1]]
    assert element[host] == max(states[small_index.rows_of(host)])
    assert rolled[model.storey[host]] >= element[host]
    assert rolled[model.building[host]] == max(rolled[model.storey[model.building == model.building[host]]])
    assert store.counts(states)["warning"] == 1


def test_history_of_watched_devices(store) -> None:
    rows = np.array([0, 1])
    store.watch(rows)
    for t in range(5):
        store.apply(rows, np.array([t, 2.0 * t]), 100.0 + t)
    times, values = store.history()
    assert times.tolist() == [100, 101, 102, 103, 104]
    assert values[:, 1].tolist() == [0, 2, 4, 6, 8]
