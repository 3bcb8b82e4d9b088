"""A real mosquitto broker on a free loopback port, and the small district's device index."""

from __future__ import annotations

import time

from tests.conftest import Mosquitto  # noqa: F401  (the class lives at the top)


def wait_for(condition, timeout: float = 10.0, step=None) -> bool:
    """Poll `condition` (calling `step` first each time) until it holds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if step is not None:
            step()
        if condition():
            return True
        time.sleep(0.05)
    return False
