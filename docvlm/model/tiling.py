"""Dynamic tiling geometry: pure functions of integers (no torch, no images).

Page views follow InternVL's rule (InternVL 1.5, ``dynamic_preprocess``): among grids
(cols, rows) with ``min_tiles <= cols * rows <= max_tiles`` pick the one whose aspect ratio
is closest to the image's; on a tie prefer the larger grid when the image has more than half
the pixels that grid would hold. The image is resized to (cols * tile, rows * tile) and cut
row by row; a thumbnail of the whole image is added when there is more than one tile.

Crops (a region to read) use a native view instead: one view of the crop's own aspect ratio,
scaled to fit a side and a patch budget, with sides rounded to whole merge groups (Pix2Struct's
variable-resolution input; the tower interpolates its position embeddings to the grid).

Every view carries its rectangle as fractions of the source image, so tokens can be placed on
the page whatever the tiling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class View:
    """One encoder input: crop ``src`` (x0, y0, x1, y1 in source pixels, floats) resized to
    ``width`` x ``height`` pixels. ``kind`` is 'tile', 'thumbnail' or 'native'."""

    kind: str
    width: int
    height: int
    src: tuple[float, float, float, float]

    def frac(self, src_w: int, src_h: int) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = self.src
        return (x0 / src_w, y0 / src_h, x1 / src_w, y1 / src_h)


def candidate_grids(min_tiles: int, max_tiles: int) -> list[tuple[int, int]]:
    """All (cols, rows) with min_tiles <= cols * rows <= max_tiles, by tile count then cols."""
    assert 1 <= min_tiles <= max_tiles
    grids = {(c, r) for n in range(min_tiles, max_tiles + 1) for c in range(1, n + 1)
             for r in range(1, n + 1) if min_tiles <= c * r <= max_tiles}
    return sorted(grids, key=lambda g: (g[0] * g[1], g[0]))


def choose_grid(width: int, height: int, tile: int, min_tiles: int, max_tiles: int
                ) -> tuple[int, int]:
    """InternVL's closest-aspect-ratio grid (cols, rows), with exact rational arithmetic.

    >>> choose_grid(1000, 1000, 448, 1, 6)
    (1, 1)
    >>> choose_grid(1654, 2339, 448, 1, 6)   # A4 portrait at 200 DPI
    (2, 3)
    >>> choose_grid(3000, 300, 448, 1, 6)    # a wide strip
    (6, 1)
    """
    assert width > 0 and height > 0 and tile > 0
    aspect = Fraction(width, height)
    best, best_diff = (1, 1), None
    for cols, rows in candidate_grids(min_tiles, max_tiles):
        diff = abs(aspect - Fraction(cols, rows))
        if best_diff is None or diff < best_diff:
            best, best_diff = (cols, rows), diff
        elif diff == best_diff and 2 * width * height > tile * tile * cols * rows:
            best = (cols, rows)
    return best


def tile_views(width: int, height: int, tile: int, min_tiles: int = 1, max_tiles: int = 6,
               thumbnail: bool = True) -> list[View]:
    """Tiles row by row, then the thumbnail (when more than one tile). Each tile's ``src`` is
    its rectangle in the source image (the resize maps it there exactly)."""
    cols, rows = choose_grid(width, height, tile, min_tiles, max_tiles)
    sx, sy = width / (cols * tile), height / (rows * tile)
    views = [
        View("tile", tile, tile, (c * tile * sx, r * tile * sy, (c + 1) * tile * sx,
                                  (r + 1) * tile * sy))
        for r in range(rows) for c in range(cols)
    ]
    if thumbnail and len(views) > 1:
        views.append(View("thumbnail", tile, tile, (0.0, 0.0, float(width), float(height))))
    return views


def native_view(width: int, height: int, unit_w: int, unit_h: int, max_side: int,
                max_patches: int, patch: int) -> View:
    """One view of the whole image at (near) its own resolution: scaled down (never up) to fit
    ``max_side`` and ``max_patches`` patches, sides rounded to whole units (merge groups),
    at least one unit each. The aspect ratio changes only by that rounding."""
    assert width > 0 and height > 0 and unit_w % patch == 0 and unit_h % patch == 0
    s = min(1.0, max_side / max(width, height), math.sqrt(max_patches * patch * patch
                                                          / (width * height)))
    w = max(unit_w, round(width * s / unit_w) * unit_w)
    h = max(unit_h, round(height * s / unit_h) * unit_h)
    while (w // patch) * (h // patch) > max_patches:  # rounding up may overshoot the budget
        if w >= h and w > unit_w:
            w -= unit_w
        elif h > unit_h:
            h -= unit_h
        else:
            break
    return View("native", w, h, (0.0, 0.0, float(width), float(height)))
