"""Tables drawn as grids: cells from the page's drawn edges, the way pdfplumber's lines strategy finds them.

Edges close to one line are snapped onto it and joined; the points where horizontal and vertical
edges cross are the corners; a cell is the smallest rectangle whose four corners are joined by
edges; cells sharing a corner are one table. Tolerances are pdfplumber's defaults (3 points).
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from ingest.pdfpage import Box, Char, Edge, clusters, text_of

SNAP = 3.0  # points within which parallel edges are moved onto one line
JOIN = 3.0  # points of gap within which edges on one line are joined
MIN_EDGE = 3.0  # shorter edges are not cell borders
MIN_PREFILTER = 1.0  # points: shorter edges are dropped before snapping
CROSS = 3.0  # points within which two edges meet at a corner

Point = tuple[float, float]


@dataclass
class GridTable:
    bbox: Box
    cells: list[Box]
    row_boxes: list[Box]
    rows: list[list[str | None]]  # None where the grid has no cell in that row and column


def grid_tables(edges: list[Edge], chars: list[Char]) -> list[GridTable]:
    """The page's tables of drawn cells, top to bottom, each cell with its text."""
    merged = [e for e in merged_edges([e for e in edges if e.length >= MIN_PREFILTER]) if e.length >= MIN_EDGE]
    groups = cell_groups(cells_of(edge_crossings(merged)))
    if not groups:
        return []
    by_middle = sorted(chars, key=lambda c: c.top + c.bottom)
    return [grid_table(cells, by_middle) for cells in groups]


def merged_edges(edges: list[Edge]) -> list[Edge]:
    """Parallel edges within SNAP of each other moved onto their mean line, then touching ones joined."""
    vertical = snapped([e for e in edges if e.orientation == "v"], "v")
    horizontal = snapped([e for e in edges if e.orientation == "h"], "h")
    lines: dict[tuple[str, float], list[Edge]] = {}
    for edge in vertical + horizontal:
        lines.setdefault((edge.orientation, edge.x0 if edge.orientation == "v" else edge.top), []).append(edge)
    return [joined for key in sorted(lines) for joined in joined_on_line(lines[key])]


def snapped(edges: list[Edge], orientation: str) -> list[Edge]:
    position = (lambda e: e.x0) if orientation == "v" else (lambda e: e.top)
    cluster_of = clusters([position(e) for e in edges], SNAP)
    groups: dict[int, list[Edge]] = {}
    for edge in edges:
        groups.setdefault(cluster_of[position(edge)], []).append(edge)
    out = []
    for key in sorted(groups):
        group = groups[key]
        mean = sum(position(e) for e in group) / len(group)
        for e in group:
            shift = mean - position(e)
            if orientation == "v":
                out.append(Edge("v", e.x0 + shift, e.top, e.x1 + shift, e.bottom))
            else:
                out.append(Edge("h", e.x0, e.top + shift, e.x1, e.bottom + shift))
    return out


def joined_on_line(edges: list[Edge]) -> list[Edge]:
    """Edges along one line joined where the gap between them is at most JOIN."""
    horizontal = edges[0].orientation == "h"
    start = (lambda e: e.x0) if horizontal else (lambda e: e.top)
    end = (lambda e: e.x1) if horizontal else (lambda e: e.bottom)
    ordered = sorted(edges, key=start)
    out = [ordered[0]]
    for edge in ordered[1:]:
        last = out[-1]
        if start(edge) <= end(last) + JOIN:
            if end(edge) > end(last):
                out[-1] = Edge(last.orientation, last.x0, last.top, edge.x1, last.bottom) if horizontal else (
                    Edge(last.orientation, last.x0, last.top, last.x1, edge.bottom))
        else:
            out.append(edge)
    return out


@dataclass
class Corner:
    vertical: set[Box]
    horizontal: set[Box]


def edge_crossings(edges: list[Edge]) -> dict[Point, Corner]:
    """Points where a vertical and a horizontal edge meet (within CROSS), with the edges meeting there."""
    vertical = sorted((e for e in edges if e.orientation == "v"), key=lambda e: (e.x0, e.top))
    horizontal = sorted((e for e in edges if e.orientation == "h"), key=lambda e: (e.top, e.x0))
    corners: dict[Point, Corner] = {}
    for v in vertical:
        for h in horizontal:
            if v.top <= h.top + CROSS and v.bottom >= h.top - CROSS and h.x0 - CROSS <= v.x0 <= h.x1 + CROSS:
                corner = corners.setdefault((v.x0, h.top), Corner(set(), set()))
                corner.vertical.add((v.x0, v.top, v.x1, v.bottom))
                corner.horizontal.add((h.x0, h.top, h.x1, h.bottom))
    return corners


def cells_of(corners: dict[Point, Corner]) -> list[Box]:
    """For each corner, the smallest rectangle below and right of it whose sides are drawn."""

    def joined(a: Point, b: Point) -> bool:
        if a[0] == b[0] and corners[a].vertical & corners[b].vertical:
            return True
        return a[1] == b[1] and bool(corners[a].horizontal & corners[b].horizontal)

    points = sorted(corners)
    below: dict[float, list[Point]] = {}
    right: dict[float, list[Point]] = {}
    for point in points:
        below.setdefault(point[0], []).append(point)
    for point in sorted(points, key=lambda p: (p[1], p[0])):
        right.setdefault(point[1], []).append(point)
    cells = []
    for point in points:
        downs = [p for p in below[point[0]] if p[1] > point[1]]
        rights = [p for p in right[point[1]] if p[0] > point[0]]
        cell = next(((point[0], point[1], r[0], d[1]) for d in downs if joined(point, d) for r in rights
                     if joined(point, r) and (r[0], d[1]) in corners and joined((r[0], d[1]), r) and joined((r[0], d[1]), d)), None)
        if cell:
            cells.append(cell)
    return cells


def cell_groups(cells: list[Box]) -> list[list[Box]]:
    """Cells sharing a corner, directly or through others, as tables of two or more cells, top to bottom."""
    remaining = list(cells)
    groups: list[list[Box]] = []
    while remaining:
        group = [remaining.pop(0)]
        seen = set(box_corners(group[0]))
        grew = True
        while grew:
            grew = False
            for cell in list(remaining):
                if any(c in seen for c in box_corners(cell)):
                    group.append(cell)
                    seen.update(box_corners(cell))
                    remaining.remove(cell)
                    grew = True
        groups.append(group)
    groups.sort(key=lambda g: min((c[1], c[0]) for c in g))
    return [g for g in groups if len(g) > 1]


def box_corners(box: Box) -> tuple[Point, Point, Point, Point]:
    x0, top, x1, bottom = box
    return (x0, top), (x0, bottom), (x1, top), (x1, bottom)


def grid_table(cells: list[Box], by_middle: list[Char]) -> GridTable:
    """Cells in rows (by their top) and columns (by their left edge), each with the text whose middle lies in it.

    `by_middle` is the page's characters sorted by their middle's height, so a row's are found by bisection.
    """
    columns = sorted({c[0] for c in cells})
    right_edge = max(c[2] for c in cells)
    by_top: dict[float, dict[float, Box]] = {}
    for cell in sorted(cells, key=lambda c: (c[1], c[0])):
        by_top.setdefault(cell[1], {})[cell[0]] = cell
    middles = [c.top + c.bottom for c in by_middle]  # twice each middle: compared with twice a row's edges
    rows, row_boxes = [], []
    for top in sorted(by_top):
        drawn = [by_top[top].get(x) for x in columns]
        row = unruled_cells(drawn, columns, right_edge, bounding([c for c in drawn if c]), cells)
        box = bounding([c for c in row if c])
        in_row = sorted((c for c in by_middle[bisect_left(middles, 2 * box[1]) : bisect_left(middles, 2 * box[3])] if middle_inside(c, box)),
                        key=lambda c: c.x0 + c.x1)
        centres = [c.x0 + c.x1 for c in in_row]  # twice each middle, as above
        rows.append([None if cell is None else text_of([c for c in in_row[bisect_left(centres, 2 * cell[0]) : bisect_left(centres, 2 * cell[2])]
                                                         if middle_inside(c, cell)]) for cell in row])
        row_boxes.append(box)
    return GridTable(bounding(cells), cells, row_boxes, rows)


def unruled_cells(row: list[Box | None], columns: list[float], right_edge: float, box: Box, cells: list[Box]) -> list[Box | None]:
    """A row's cells with the gaps filled where no drawn cell covers a column: a table continued on a new page
    often lacks part of its top border, and the figures under the missing rule are still that row's."""
    filled = list(row)
    for i, cell in enumerate(row):
        if cell is not None:
            continue
        x0, x1 = columns[i], columns[i + 1] if i + 1 < len(columns) else right_edge
        if not any(c[0] < x1 and c[2] > x0 and c[1] < box[3] and c[3] > box[1] for c in cells):
            filled[i] = (x0, box[1], x1, box[3])
    return filled


def bounding(boxes: list[Box]) -> Box:
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


def middle_inside(char: Char, box: Box) -> bool:
    x = (char.x0 + char.x1) / 2
    y = (char.top + char.bottom) / 2
    return box[0] <= x < box[2] and box[1] <= y < box[3]
