"""The generated Mumianling district, written once into the user's cache folder."""

from __future__ import annotations

from pathlib import Path

from twin_app.bim.generate import IFC_NAME, REGISTRY_NAME, GeneratedDistrict, ProgressFn, generate_district
from twin_app.bim.loader import cache_dir


def district_dir(towers: int = 19, seed: int = 20261124, storeys: int | None = None) -> Path:
    """Cache folder of one generated district variant."""
    tail = f"-storeys{storeys}" if storeys is not None else ""
    return cache_dir() / "district" / f"towers{towers}-seed{seed}{tail}"


def ensure_district(towers: int = 19, seed: int = 20261124, storeys: int | None = None,
                    progress: ProgressFn | None = None) -> GeneratedDistrict:
    """Return the generated district, writing it first when the cache holds none."""
    folder = district_dir(towers, seed, storeys)
    ifc, registry = folder / IFC_NAME, folder / REGISTRY_NAME
    if ifc.is_file() and registry.is_file():
        if progress:
            progress(1.0, "District found in cache")
        return GeneratedDistrict(ifc, registry, {}, -1, 0.0)
    return generate_district(folder, towers=towers, seed=seed, storeys=storeys, progress=progress)
