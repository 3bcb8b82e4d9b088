"""Devices bound to the elements of a model: which devices an element hosts, which element hosts a device."""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin_app.core.model import DistrictModel


class DeviceIndex:
    """The registry joined to a model's element table, all lookups vectorised.

    Parameters
    ----------
    devices
        The registry (see `twin_app.core.registry.REGISTRY_COLUMNS`).
    model
        The model whose GlobalIds the devices' ``host_global_id`` refer to.

    Attributes
    ----------
    host_element
        Element index of each device's host, -1 when the host is not in the model.
    """

    def __init__(self, devices: pd.DataFrame, model: DistrictModel) -> None:
        self.devices = devices.reset_index(drop=True)
        self.model = model
        # a GlobalId repeated in a damaged file binds to its first element
        positions = pd.Series(np.arange(model.n_elements), index=model.global_id)
        positions = positions[~positions.index.duplicated(keep="first")]
        self.host_element = positions.reindex(self.devices["host_global_id"].to_numpy()).fillna(-1).to_numpy(np.int64)
        self.unknown_hosts = int((self.host_element < 0).sum())
        self._order = np.argsort(self.host_element, kind="stable")
        self._bounds = np.searchsorted(self.host_element[self._order], np.arange(model.n_elements + 1))
        self.device_row = pd.Index(self.devices["device_id"])

    @property
    def n_devices(self) -> int:
        return len(self.devices)

    def rows_of(self, element: int) -> np.ndarray:
        """Registry row numbers of the devices hosted by `element`."""
        if not 0 <= element < self.model.n_elements:
            return np.zeros(0, dtype=np.int64)
        return self._order[self._bounds[element]:self._bounds[element + 1]]

    def devices_of(self, element: int) -> pd.DataFrame:
        """The registry rows of the devices hosted by `element`."""
        return self.devices.iloc[self.rows_of(element)]

    def rows_of_ids(self, device_ids: list[str] | np.ndarray) -> np.ndarray:
        """Registry row of each device id, -1 for unknown ids."""
        return self.device_row.get_indexer(device_ids).astype(np.int64)
