"""The device registry: one row per device, bound to an IFC host element.

The registry is the source of truth for devices; most of them have no IFC
entity of their own and are attached to the space or equipment that hosts them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from twin_app.core.errors import InputError
from twin_app.core.kinds import KINDS, ROLE_DEVICES
from twin_app.core.names import SAFE_NAME

REGISTRY_COLUMNS: dict[str, str] = {
    "device_id": "string",
    "kind": "string",
    "unit": "string",
    "host_global_id": "string",
    "building": "string",
    "storey": "string",
    "gateway": "string",
    "alarm_low": "float64",
    "warn_low": "float64",
    "warn_high": "float64",
    "alarm_high": "float64",
    "period_s": "float64",
}
HOST_COLUMNS = ("host_global_id", "role", "building", "storey", "host_code")


def build_registry(hosts: pd.DataFrame) -> pd.DataFrame:
    """Derive the devices of every host from its role.

    Parameters
    ----------
    hosts
        One row per host element with the columns of `HOST_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        The registry, one row per device, with the columns of `REGISTRY_COLUMNS`.
    """
    missing = [c for c in HOST_COLUMNS if c not in hosts.columns]
    if missing:
        raise ValueError(f"hosts table lacks columns {missing}")
    rows_per_role: list[pd.DataFrame] = []
    kind_table = pd.DataFrame(
        [(k.name, k.unit, k.alarm_low, k.warn_low, k.warn_high, k.alarm_high, k.period_s) for k in KINDS.values()],
        columns=["kind", "unit", "alarm_low", "warn_low", "warn_high", "alarm_high", "period_s"],
    ).set_index("kind")
    for role, group in hosts.groupby("role", sort=True):
        spec = ROLE_DEVICES.get(str(role))
        if not spec:
            continue
        kinds = np.array([k for k, n in spec for _ in range(n)], dtype=object)
        ordinal = np.array([i + 1 for _, n in spec for i in range(n)], dtype=np.int64)
        n_hosts, n_dev = len(group), len(kinds)
        host_idx = np.repeat(np.arange(n_hosts), n_dev)
        block = pd.DataFrame({
            "host_global_id": group["host_global_id"].to_numpy()[host_idx],
            "building": group["building"].to_numpy()[host_idx],
            "storey": group["storey"].to_numpy()[host_idx],
            "host_code": group["host_code"].to_numpy()[host_idx],
            "kind": np.tile(kinds, n_hosts),
            "ordinal": np.tile(ordinal, n_hosts),
        })
        rows_per_role.append(block)
    devices = pd.concat(rows_per_role, ignore_index=True)
    devices["device_id"] = (
        devices["building"] + "-" + devices["storey"] + "-" + devices["host_code"] + "-" + devices["kind"] + "-"
        + devices["ordinal"].astype(str)
    )
    devices["gateway"] = devices["building"] + "-" + devices["storey"]
    devices = devices.join(kind_table, on="kind")
    devices = devices.sort_values("device_id", kind="stable", ignore_index=True)
    return devices[list(REGISTRY_COLUMNS)].astype(REGISTRY_COLUMNS)


def validate_registry(devices: pd.DataFrame, source: str = "registry") -> pd.DataFrame:
    """Check a registry table and return it with normalised dtypes.

    Raises
    ------
    InputError
        When a required column is missing, a device id is empty or repeated, or a
        threshold is not a number.
    """
    required = ("device_id", "kind", "unit", "host_global_id", "building", "storey")
    missing = [c for c in required if c not in devices.columns]
    if missing:
        raise InputError(source, f"missing columns {', '.join(missing)}")
    devices = devices.copy()
    for col in ("alarm_low", "warn_low", "warn_high", "alarm_high", "period_s"):
        if col not in devices.columns:
            devices[col] = np.nan
        try:
            devices[col] = pd.to_numeric(devices[col], errors="raise").astype("float64")
        except (TypeError, ValueError) as exc:
            raise InputError(source, f"column {col} holds a value that is not a number ({exc})") from None
    if "gateway" not in devices.columns:
        devices["gateway"] = devices["building"].astype(str) + "-" + devices["storey"].astype(str)
    ids = devices["device_id"].astype("string")
    empty = ids.isna() | (ids.str.len() == 0)
    if empty.any():
        raise InputError(source, f"row {int(np.flatnonzero(empty.to_numpy())[0])} has an empty device_id")
    unsafe = ~ids.str.fullmatch(SAFE_NAME.pattern).fillna(False).astype(bool)
    if unsafe.any():
        bad = ids[unsafe].iloc[0]
        raise InputError(source, f"device_id {bad[:60]!r} (row {int(np.flatnonzero(unsafe.to_numpy())[0])}) is not a "
                                 "valid name: 1 to 128 letters, digits, '_', '.', ':' or '-'")
    dup = ids.duplicated()
    if dup.any():
        raise InputError(source, f"device_id {ids[dup].iloc[0]!r} appears more than once")
    return devices.astype({c: t for c, t in REGISTRY_COLUMNS.items() if c in devices.columns})


def read_registry(path: str | Path) -> pd.DataFrame:
    """Read and validate a registry Parquet file.

    Raises
    ------
    InputError
        When the file is missing, is not Parquet, or fails `validate_registry`.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "device registry not found")
    try:
        devices = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise InputError(str(path), f"not a readable Parquet file ({type(exc).__name__}: {exc})") from None
    return validate_registry(devices, str(path))
