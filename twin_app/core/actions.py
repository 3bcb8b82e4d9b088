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


def linked_commands(alarm: Alarm, index: DeviceIndex) -> list[Command]:
    """The commands an alarm's rule calls for (none for most alarms)."""
    if alarm.condition != "hi" or not alarm.is_device:
        return []
    parts = alarm.source.split("-")
    if len(parts) < 4:
        return []
    building, storey, place = parts[0], parts[1], parts[2]
    ids = index.devices["device_id"].astype(str)
    kinds = index.devices["kind"].astype(str).to_numpy()
    wanted: list[tuple[np.ndarray, str]] = []
    if alarm.kind == "co" and place.startswith("GZ"):
        zone = place[:3]
        wanted.append(((kinds == "fan") & ids.str.startswith(f"{building}-{storey}-{zone}-FAN").to_numpy(), "on"))
    elif alarm.kind in ("h2s", "ch4") and place[:3] in ("SEP", "SEW"):
        room = place[:3]
        prefix = f"{building}-{storey}-{room}-"
        wanted.append(((kinds == "fan") & ids.str.startswith(prefix + "FAN").to_numpy(), "on"))
        wanted.append(((kinds == "disinfection") & ids.str.startswith(prefix + "DIS").to_numpy(), "on"))
    elif alarm.kind == "smoke":
        wanted.append(((kinds == "elevator") & ids.str.startswith(f"{building}-1F-EL").to_numpy(), "recall"))
    reason = f"{alarm.kind} {alarm.condition} alarm {alarm.id}"
    commands = []
    for mask, action in wanted:
        for row in np.flatnonzero(mask):
            commands.append(Command(str(ids.iat[row]), int(row), action, reason, CONFIRMING_VALUE[action]))
    return commands
