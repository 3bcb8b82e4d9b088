"""Property sets, quantities and property-value search of a model's IFC file.

The file is only opened here after the loader's worker process has parsed and
tessellated it without trouble, and it is opened lazily: the first question
about properties pays the parse.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.util.element

from twin_app.bim.tessellate import open_ifc


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a property value."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, ifcopenshell.entity_instance):
        return f"#{value.id()} {value.is_a()}"
    return str(value)


class PropertyReader:
    """Answers property questions about elements of one IFC file, by GlobalId.

    Parameters
    ----------
    path
        The IFC file (already loaded once by `twin_app.bim.loader.load_model`).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: ifcopenshell.file | None = None
        self._lock = threading.Lock()

    @property
    def file(self) -> ifcopenshell.file:
        with self._lock:
            if self._file is None:
                self._file, _ = open_ifc(self.path)
            return self._file

    def _entity(self, global_id: str) -> ifcopenshell.entity_instance | None:
        try:
            return self.file.by_guid(global_id)
        except RuntimeError:  # unknown GlobalId
            return None

    def properties(self, global_id: str) -> dict[str, dict[str, dict[str, Any]]]:
        """Property sets and quantity sets (own and inherited from the type) of one element.

        Returns
        -------
        dict
            ``{"attributes": {...}, "psets": {name: {prop: value}}, "qtos": {name: {qty: value}}}``;
            empty sections for an unknown GlobalId.
        """
        entity = self._entity(global_id)
        if entity is None:
            return {"attributes": {}, "psets": {}, "qtos": {}}
        attributes = {}
        for name in ("Name", "Description", "ObjectType", "LongName", "Tag", "PredefinedType"):
            if hasattr(entity, name):
                value = getattr(entity, name)
                if value is not None:
                    attributes[name] = _plain(value)
        element_type = ifcopenshell.util.element.get_type(entity)
        if element_type is not None:
            attributes["Type"] = f"{element_type.is_a()} {element_type.Name or ''}".strip()

        def clean(sets: dict) -> dict:
            return {name: {k: _plain(v) for k, v in props.items() if k != "id"} for name, props in sorted(sets.items())}

        psets = clean(ifcopenshell.util.element.get_psets(entity, psets_only=True))
        qtos = clean(ifcopenshell.util.element.get_psets(entity, qtos_only=True))
        return {"attributes": attributes, "psets": psets, "qtos": qtos}

    def find_by_property_value(self, text: str, limit: int = 500) -> list[str]:
        """GlobalIds of elements with a property whose name or value contains `text` (case-insensitive)."""
        needle = text.strip().lower()
        if not needle:
            return []
        hits: list[str] = []
        seen: set[str] = set()
        for pset in self.file.by_type("IfcPropertySet"):
            matched = False
            for prop in pset.HasProperties or ():
                if not prop.is_a("IfcPropertySingleValue"):
                    continue
                value = prop.NominalValue.wrappedValue if prop.NominalValue is not None else ""
                if needle in str(value).lower() or needle in str(prop.Name).lower():
                    matched = True
                    break
            if not matched:
                continue
            for owner in self._owners(pset):
                gid = owner.GlobalId
                if gid not in seen:
                    seen.add(gid)
                    hits.append(gid)
                    if len(hits) >= limit:
                        return hits
        return hits

    @staticmethod
    def _owners(pset: ifcopenshell.entity_instance) -> list[ifcopenshell.entity_instance]:
        """Occurrences a property set applies to, directly or through their type."""
        owners = []
        for rel in getattr(pset, "DefinesOccurrence", None) or ():
            owners.extend(rel.RelatedObjects)
        for element_type in getattr(pset, "DefinesType", None) or ():
            for rel in getattr(element_type, "Types", None) or getattr(element_type, "ObjectTypeOf", None) or ():
                owners.extend(rel.RelatedObjects)
        for rel in getattr(pset, "PropertyDefinitionOf", None) or ():  # IFC2X3
            owners.extend(rel.RelatedObjects)
        return [o for o in owners if o.is_a("IfcProduct")]
