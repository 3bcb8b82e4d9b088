"""Off-screen plotters for the render tests."""

from __future__ import annotations

import pytest
import pyvista as pv


@pytest.fixture
def plotter(request):
    """An off-screen plotter of the test module's WIDTH x HEIGHT (1920 x 1080 where it names none)."""
    pv.global_theme.multi_samples = 0
    size = (getattr(request.module, "WIDTH", 1920), getattr(request.module, "HEIGHT", 1080))
    p = pv.Plotter(off_screen=True, window_size=size)
    yield p
    p.close()
