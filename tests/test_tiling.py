"""Tiling geometry: pure integer functions, checked over many aspect ratios."""

from fractions import Fraction

import pytest

from docvlm.model.tiling import candidate_grids, choose_grid, native_view, tile_views

SIZES = [(w, h) for w in (37, 300, 448, 612, 1000, 1654, 2339, 3000, 5000)
         for h in (29, 300, 448, 792, 1000, 1654, 2339, 4000)]


def test_candidate_grids():
    g = candidate_grids(1, 6)
    assert (1, 1) in g and (2, 3) in g and (6, 1) in g and (3, 3) not in g
    assert all(1 <= c * r <= 6 for c, r in g)
    assert candidate_grids(4, 4) == [(1, 4), (2, 2), (4, 1)]


@pytest.mark.parametrize("w,h", SIZES)
@pytest.mark.parametrize("max_tiles", [1, 4, 6, 12])
def test_chosen_grid_is_closest_in_aspect(w, h, max_tiles):
    cols, rows = choose_grid(w, h, 448, 1, max_tiles)
    assert 1 <= cols * rows <= max_tiles
    best = min(abs(Fraction(w, h) - Fraction(c, r)) for c, r in candidate_grids(1, max_tiles))
    assert abs(Fraction(w, h) - Fraction(cols, rows)) == best


def test_ties_prefer_the_larger_grid_only_for_big_images():
    # 1:1 ties between (1,1), (2,2): a big square image takes 2x2, a small one 1x1
    assert choose_grid(2000, 2000, 448, 1, 4) == (2, 2)
    assert choose_grid(300, 300, 448, 1, 4) == (1, 1)


@pytest.mark.parametrize("w,h", SIZES)
def test_tiles_cover_the_image_exactly_row_by_row(w, h):
    views = tile_views(w, h, 448, 1, 6, thumbnail=True)
    tiles = [v for v in views if v.kind == "tile"]
    thumbs = [v for v in views if v.kind == "thumbnail"]
    assert len(thumbs) == (1 if len(tiles) > 1 else 0)
    area = sum((v.src[2] - v.src[0]) * (v.src[3] - v.src[1]) for v in tiles)
    assert area == pytest.approx(w * h, rel=1e-9)
    ys = [v.src[1] for v in tiles]
    assert ys == sorted(ys)  # row by row
    for v in tiles:
        assert 0 <= v.src[0] < v.src[2] <= w + 1e-6 and 0 <= v.src[1] < v.src[3] <= h + 1e-6
        assert (v.width, v.height) == (448, 448)
    if thumbs:
        assert thumbs[0].src == (0.0, 0.0, float(w), float(h))


@pytest.mark.parametrize("w,h", SIZES)
@pytest.mark.parametrize("unit_w,unit_h", [(32, 32), (64, 16)])
def test_native_view_fits_budget_and_units(w, h, unit_w, unit_h):
    v = native_view(w, h, unit_w, unit_h, max_side=1024, max_patches=1024, patch=16)
    assert v.width % unit_w == 0 and v.height % unit_h == 0
    assert v.width >= unit_w and v.height >= unit_h
    assert (v.width // 16) * (v.height // 16) <= 1024 or (v.width, v.height) == (unit_w, unit_h)
    assert max(v.width, v.height) <= max(1024, unit_w, unit_h) + max(unit_w, unit_h)
    if w >= 4 * unit_w and h >= 4 * unit_h and 0.2 < w / h < 5:
        assert v.width / v.height == pytest.approx(w / h, rel=0.35)
    assert v.width <= max(w, unit_w) + unit_w  # never upscaled beyond one unit of rounding
