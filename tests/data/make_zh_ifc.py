"""Make `mumianling_zh.ifc`: a small real IFC model whose spatial structure has Chinese names.

The geometry is buildingSMART's "PCERT Sample Scene" architecture model (`Building-Architecture.ifc`, IFC4,
CC BY 4.0); only names change: the site, the building, the storey and its rooms get the names a Shenzhen
community would give them, and an empty second storey (二层) is added above the first. Run from the
repository root::

    .venv/bin/python tests/data/make_zh_ifc.py [SOURCE.ifc] [OUT.ifc]
"""

from __future__ import annotations

import sys
from pathlib import Path

import ifcopenshell
import ifcopenshell.api

HERE = Path(__file__).parent
SOURCE = HERE / "Building-Architecture.ifc"
OUT = HERE / "mumianling_zh.ifc"

PROJECT = "木棉岭社区数字孪生"
SITE = "木棉岭社区"
BUILDING = "木棉岭社区 1栋"
STOREYS = ("一层", "二层")
ROOMS = {"living room": ("配电房", "低压配电房"), "entry hall": ("水泵房", "生活水泵房")}


def make(source: Path = SOURCE, out: Path = OUT) -> Path:
    """Write the renamed copy of `source` to `out` and return `out`."""
    model = ifcopenshell.open(str(source))
    model.by_type("IfcProject")[0].Name = PROJECT
    buildings = model.by_type("IfcBuilding")
    if len(buildings) != 1:
        raise ValueError(f"{source}: expected one building, found {len(buildings)}")
    building = buildings[0]
    building.Name, building.LongName = BUILDING, BUILDING
    # the site that holds the building (the sample has a second, empty "environment" site)
    for site in model.by_type("IfcSite"):
        holds_building = any(building in rel.RelatedObjects for rel in site.IsDecomposedBy or ())
        site.Name = SITE if holds_building else "木棉岭社区 室外环境"
        site.LongName = site.Name
    storey = model.by_type("IfcBuildingStorey")[0]
    storey.Name, storey.LongName = STOREYS[0], STOREYS[0]
    second = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcBuildingStorey", name=STOREYS[1])
    second.LongName = STOREYS[1]
    second.Elevation = (storey.Elevation or 0.0) + 3000.0  # millimetres, the project's unit
    ifcopenshell.api.run("aggregate.assign_object", model, products=[second], relating_object=building)
    for space in model.by_type("IfcSpace"):
        name, long_name = ROOMS.get(str(space.Name), (space.Name, space.LongName))
        space.Name, space.LongName = name, long_name
    model.write(str(out))
    return out


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]]
    print(make(*args))
