"""The district layout: deterministic, Mumianling-sized, sane geometry (no display needed)."""

from __future__ import annotations

import pytest

from twin_app.core.district import SITE_SIZE_M, plan_district, storey_name


def test_full_district_matches_mumianling() -> None:
    plan = plan_district()
    counts = plan.counts()
    assert counts["towers"] == 19
    assert counts["spaces"] >= 13_000
    # about 13,000 homes for about 40,000 residents
    assert 12_000 <= counts["apartments"] <= 14_000
    for tower in plan.towers:
        assert 33 <= tower.storeys_above <= 56
        assert 100.0 <= tower.height_m <= 175.0
        assert 12 <= tower.apartments_per_storey <= 16
        names = [s.name for s in tower.storeys]
        assert names[:3] == ["B2", "B1", "1F"]
        assert names[-1] == f"{tower.storeys_above}F"
        heights = [s.height for s in tower.storeys if s.above_ground][1:]
        assert all(2.8 <= h <= 3.2 for h in heights)


def test_layout_is_deterministic_and_seed_dependent() -> None:
    assert plan_district(seed=7) == plan_district(seed=7)
    assert plan_district(seed=7) != plan_district(seed=8)


def test_towers_stand_on_the_site_without_overlap() -> None:
    plan = plan_district()
    boxes = []
    for t in plan.towers:
        w, d = (t.width, t.depth) if t.rotation_deg == 0 else (t.depth, t.width)
        x0 = t.x if t.rotation_deg == 0 else t.x - w  # rotated: local y runs along -X
        boxes.append((x0, t.y, x0 + w, t.y + d))
    for x0, y0, x1, y1 in boxes:
        assert 0.0 <= x0 < x1 <= SITE_SIZE_M and 0.0 <= y0 < y1 <= SITE_SIZE_M
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


def test_every_storey_has_unique_codes_and_spaces_inside_the_plate() -> None:
    plan = plan_district(towers=3, storeys=5)
    for tower in plan.towers:
        for storey in tower.storeys:
            codes = [s.code for s in storey.spaces] + [e.code for e in storey.equipment]
            assert len(codes) == len(set(codes)), storey.name
            for sp in storey.spaces:
                assert sp.width > 0 and sp.depth > 0
                if storey.above_ground:
                    assert sp.x >= -1e-9 and sp.x + sp.width <= tower.width + 1e-9


def test_small_variant_and_bad_arguments() -> None:
    small = plan_district(towers=2, storeys=6)
    assert small.counts()["towers"] == 2
    assert all(t.storeys_above == 6 for t in small.towers)
    with pytest.raises(ValueError, match="towers"):
        plan_district(towers=0)
    with pytest.raises(ValueError, match="storeys"):
        plan_district(storeys=500)


def test_storey_names() -> None:
    assert [storey_name(i) for i in (-2, -1, 0, 1, 55)] == ["B2", "B1", "1F", "2F", "56F"]
