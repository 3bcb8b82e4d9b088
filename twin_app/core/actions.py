"""Linked actions: which actuators an alarm switches, with the value that confirms each command.

CO over its limit in a garage zone turns the zone's exhaust fans on; CH4 or H2S in a septic tank room or sewage
well room turns its fan and disinfection unit on; smoke on a storey recalls the tower's elevators.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin_app.core.alarms import Alarm
from twin_app.core.devices import DeviceIndex

CONFIRM_AFTER_S = 30.0
CONFIRMING_VALUE = {"on": 1.0, "recall": 2.0}


@dataclass(frozen=True)
class Command:
    """One actuator command caused by an alarm."""

    device_id: str
    row: int
    action: str
    reason: str
    confirm_value: float


class ActuatorIndex:
    """Actuators (fans, disinfection units, elevators) by the place their id names, built once per registry.

    ``T05-B1-GZA-FAN1-fan-1`` is found under (``fan``, ``T05-B1-GZA``) so that an alarm finds its commands in
    constant time, not by scanning the registry.
    """

    def __init__(self, index: DeviceIndex) -> None:
        ids = index.devices["device_id"].astype(str).to_numpy()
        kinds = index.devices["kind"].astype(str).to_numpy()
        self.ids = ids
        self.by_place: dict[tuple[str, str], list[int]] = {}
        for row in np.flatnonzero(np.isin(kinds, ("fan", "disinfection", "elevator"))):
            parts = str(ids[row]).split("-")
            if len(parts) < 4:
                continue
            key = (str(kinds[row]), f"{parts[0]}-{parts[1]}-{parts[2][:3]}")
            self.by_place.setdefault(key, []).append(int(row))

    def rows(self, kind: str, place: str, prefix: str) -> list[int]:
        """Rows of `kind` at `place` (building-storey-room) whose id starts with `prefix`."""
        return [r for r in self.by_place.get((kind, place), []) if str(self.ids[r]).startswith(prefix)]


def linked_commands(alarm: Alarm, actuators: ActuatorIndex) -> list[Command]:
    """The commands an alarm's rule calls for (none for most alarms)."""
    if alarm.condition != "hi" or not alarm.is_device:
        return []
    parts = alarm.source.split("-")
    if len(parts) < 4:
        return []
    building, storey, place = parts[0], parts[1], parts[2]
    wanted: list[tuple[list[int], str]] = []
    if alarm.kind == "co" and place.startswith("GZ"):
        zone = f"{building}-{storey}-{place[:3]}"
        wanted.append((actuators.rows("fan", zone, f"{zone}-FAN"), "on"))
    elif alarm.kind in ("h2s", "ch4") and place[:3] in ("SEP", "SEW"):
        room = f"{building}-{storey}-{place[:3]}"
        wanted.append((actuators.rows("fan", room, f"{room}-FAN"), "on"))
        wanted.append((actuators.rows("disinfection", room, f"{room}-DIS"), "on"))
    elif alarm.kind == "smoke":
        lobby = f"{building}-1F-EL"  # the tower's elevators, by their place (T05-1F-EL1, ...)
        wanted.append(([r for (kind, place), found in actuators.by_place.items()
                        if kind == "elevator" and place.startswith(lobby) for r in found], "recall"))
    reason = f"{alarm.kind} {alarm.condition} alarm {alarm.id}"
    return [Command(str(actuators.ids[row]), int(row), action, reason, CONFIRMING_VALUE[action])
            for rows, action in wanted for row in sorted(rows)]
