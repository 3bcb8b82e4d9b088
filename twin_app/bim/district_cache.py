"""The generated Mumianling district, written once into the user's cache folder."""

from __future__ import annotations

from pathlib import Path

from twin_app.bim.generate import IFC_NAME, REGISTRY_NAME, GeneratedDistrict, ProgressFn, generate_district
from twin_app.bim.loader import cache_dir, run_in_child

GENERATION_TIMEOUT_S = 1800.0


def district_dir(towers: int = 19, seed: int = 20261124, storeys: int | None = None) -> Path:
    """Cache folder of one generated district variant."""
    tail = f"-storeys{storeys}" if storeys is not None else ""
    return cache_dir() / "district" / f"towers{towers}-seed{seed}{tail}"


def _generate_into(folder: str, towers: int, seed: int, storeys: int | None, report: ProgressFn) -> None:
    """Child process work: write the district into `folder`."""
    generate_district(folder, towers=towers, seed=seed, storeys=storeys, progress=report)


def ensure_district(towers: int = 19, seed: int = 20261124, storeys: int | None = None,
                    progress: ProgressFn | None = None, isolated: bool = False) -> GeneratedDistrict:
    """Return the generated district, writing it first when the cache holds none.

    Parameters
    ----------
    isolated
        Generate in a child process, so that a window's or a network client's threads in this
        process are never held up by the IFC library (which keeps the interpreter lock for long
        stretches). The returned counts are then empty.
    """
    folder = district_dir(towers, seed, storeys)
    ifc, registry = folder / IFC_NAME, folder / REGISTRY_NAME
    if ifc.is_file() and registry.is_file():
        if progress:
            progress(1.0, "District found in cache")
        return GeneratedDistrict(ifc, registry, {}, -1, 0.0)
    if not isolated:
        return generate_district(folder, towers=towers, seed=seed, storeys=storeys, progress=progress)
    run_in_child(_generate_into, (str(folder), towers, seed, storeys), str(folder), "generating the district",
                 progress or (lambda fraction, message: None), GENERATION_TIMEOUT_S)
    return GeneratedDistrict(ifc, registry, {}, -1, 0.0)
