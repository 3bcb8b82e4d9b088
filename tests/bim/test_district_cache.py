"""The generated district in the cache folder: written once, in a child process when asked."""

from __future__ import annotations

import pytest

from twin_app.bim.district_cache import district_dir, ensure_district
from twin_app.bim.loader import load_model


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TWIN_APP_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_isolated_generation_writes_the_district_and_relays_progress(cache) -> None:
    progress: list[tuple[float, str]] = []
    generated = ensure_district(towers=1, storeys=2, progress=lambda f, m: progress.append((f, m)), isolated=True)
    assert generated.ifc_path.parent == district_dir(1, storeys=2)
    assert generated.ifc_path.is_file() and generated.registry_path.is_file()
    assert not list(generated.ifc_path.parent.glob("*.part"))
    messages = [m for _, m in progress]
    assert "Building tower T01" in messages and messages[-1] == "District written"
    model = load_model(generated.ifc_path, folder=cache).model
    assert (model.ifc_class == "IfcBuilding").sum() == 1
    # the second call finds it in the cache and generates nothing
    again: list[str] = []
    ensure_district(towers=1, storeys=2, progress=lambda f, m: again.append(m), isolated=True)
    assert again == ["District found in cache"]


def test_isolated_generation_failure_is_a_clear_error(cache) -> None:
    from twin_app.core.errors import InputError

    # a file where the district folder must go: the child cannot write there
    district_dir(1, storeys=2).parent.mkdir(parents=True)
    district_dir(1, storeys=2).write_text("in the way")
    with pytest.raises(InputError, match="towers1-seed20261124-storeys2"):
        ensure_district(towers=1, storeys=2, isolated=True)
