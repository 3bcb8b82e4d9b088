"""Measurement kinds and the device registry (no display needed)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from twin_app.core.errors import InputError
from twin_app.core.kinds import KINDS, ROLE_DEVICES
from twin_app.core.registry import REGISTRY_COLUMNS, build_registry, read_registry, validate_registry


def test_more_than_a_hundred_kinds_with_ordered_thresholds() -> None:
    assert len(KINDS) >= 100
    for kind in KINDS.values():
        limits = [kind.alarm_low, kind.warn_low, kind.warn_high, kind.alarm_high]
        defined = [v for v in limits if not math.isnan(v)]
        assert defined == sorted(defined), kind.name
        assert kind.period_s >= 0
    for role, spec in ROLE_DEVICES.items():
        for name, count in spec:
            assert name in KINDS, (role, name)
            assert count >= 1


def _hosts() -> pd.DataFrame:
    return pd.DataFrame({
        "host_global_id": ["G-apt", "G-gar", "G-fan", "G-none"],
        "role": ["apartment", "garage", "exhaust_fan", "no_such_role"],
        "building": ["T01"] * 4,
        "storey": ["3F", "B1", "B1", "3F"],
        "host_code": ["A01", "GZA", "GZA-FAN1", "X"],
    })


def test_build_registry_derives_devices_from_roles() -> None:
    devices = build_registry(_hosts())
    assert list(devices.columns) == list(REGISTRY_COLUMNS)
    per_host = devices.groupby("host_global_id").size()
    assert per_host["G-apt"] == sum(n for _, n in ROLE_DEVICES["apartment"])
    assert per_host["G-gar"] == sum(n for _, n in ROLE_DEVICES["garage"])
    assert "G-none" not in per_host.index
    assert devices["device_id"].is_unique
    co = devices[(devices.host_global_id == "G-gar") & (devices.kind == "co")]
    assert len(co) == 4 and (co["alarm_high"] == KINDS["co"].alarm_high).all()
    assert set(co["device_id"]) == {f"T01-B1-GZA-co-{i}" for i in range(1, 5)}
    assert (devices["gateway"] == devices["building"] + "-" + devices["storey"]).all()


def test_validate_registry_reports_what_and_where() -> None:
    devices = build_registry(_hosts())
    with pytest.raises(InputError, match="missing columns kind"):
        validate_registry(devices.drop(columns=["kind"]), "reg.parquet")
    dup = pd.concat([devices, devices.iloc[:1]], ignore_index=True)
    with pytest.raises(InputError, match="appears more than once"):
        validate_registry(dup, "reg.parquet")
    bad = devices.astype({"alarm_high": object})
    bad.loc[0, "alarm_high"] = "very high"
    with pytest.raises(InputError, match="alarm_high"):
        validate_registry(bad, "reg.parquet")
    empty = devices.copy()
    empty.loc[3, "device_id"] = ""
    with pytest.raises(InputError, match="row 3 has an empty device_id"):
        validate_registry(empty, "reg.parquet")
    ok = validate_registry(devices.drop(columns=["gateway", "period_s"]), "reg.parquet")
    assert "gateway" in ok and np.isnan(ok["period_s"]).all()


def test_read_registry_bad_files(tmp_path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_registry(tmp_path / "missing.parquet")
    junk = tmp_path / "junk.parquet"
    junk.write_text("this is not parquet")
    with pytest.raises(InputError, match=r"junk\.parquet: not a readable Parquet file"):
        read_registry(junk)
    good = tmp_path / "good.parquet"
    build_registry(_hosts()).to_parquet(good)
    assert len(read_registry(good)) == len(build_registry(_hosts()))
