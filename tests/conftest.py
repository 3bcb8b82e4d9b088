"""Shared fixtures: an isolated cache folder, the generated districts and the sample IFC files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

# Every test run gets its own cache folder: nothing is read from or written to the user's cache.
_CACHE_ROOT = Path(os.environ.get("TWIN_APP_TEST_CACHE", "")) if os.environ.get("TWIN_APP_TEST_CACHE") else None


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Point the app's cache at a fresh folder for the whole session."""
    folder = _CACHE_ROOT or tmp_path_factory.mktemp("cache")
    previous = os.environ.get("TWIN_APP_CACHE_DIR")
    os.environ["TWIN_APP_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("TWIN_APP_CACHE_DIR", None)
    else:
        os.environ["TWIN_APP_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def small_district(tmp_path_factory: pytest.TempPathFactory):
    """The small variant: 2 towers of 6 storeys (plus B1, B2)."""
    from twin_app.bim.generate import generate_district

    return generate_district(tmp_path_factory.mktemp("small"), towers=2, storeys=6)


@pytest.fixture(scope="session")
def full_district(tmp_path_factory: pytest.TempPathFactory):
    """The full 19-tower Mumianling district."""
    from twin_app.bim.generate import generate_district

    return generate_district(tmp_path_factory.mktemp("full"))


@pytest.fixture(scope="session")
def small_model(small_district):
    """The small district loaded through the app's loader."""
    from twin_app.bim.loader import load_model

    return load_model(small_district.ifc_path).model


@pytest.fixture(scope="session")
def small_index(small_district, small_model):
    from twin_app.core.devices import DeviceIndex
    from twin_app.core.registry import read_registry

    return DeviceIndex(read_registry(small_district.registry_path), small_model)


SAMPLES = {
    # file: (schema, length unit, scale to metre, minimum elements with geometry)
    "Duplex_A_20110907.ifc": ("IFC2X3", "METRE", 1.0, 200),
    "Duplex_Electrical_20121207.ifc": ("IFC2X3", "FOOT", 0.3048, 90),
    "Building-Architecture.ifc": ("IFC4", "MILLIMETRE", 0.001, 10),
    "Building-Hvac.ifc": ("IFC4", "MILLIMETRE", 0.001, 4),
}
