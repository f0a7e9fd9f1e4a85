"""Inference: batch images by size, tile large pages, pad to what the network needs, crop back.

Everything here works on numpy arrays and imports no torch: the network itself is
an *engine* object with the interface of :class:`Network`
(:class:`~docdenoise._torch_engine.TorchNetwork` runs a torch module,
:class:`~docdenoise._onnx_engine.OnnxNetwork` an exported graph in onnxruntime),
so tiling, batching and test-time augmentation behave the same on both.

Speed on the CPU (figures in ``docs/performance.rst``, from ``benchmarks/bench_*.py``):

* each forward pass holds at most :data:`PIXELS_PER_PASS` pixels (never more than
  ``batch_size`` images): the activations then stay in the CPU caches, which is
  faster per pixel than a large batch;
* pages larger than a tile are cut into overlapping tiles whose margin covers the
  network's receptive field (``receptive_margin``), so the result equals
  whole-page inference (to float rounding) while memory stays bounded, whatever
  the page size.

Test-time augmentation (``tta``) runs the network on flipped/rotated copies of each
batch (at levels 16 and 32 also of the page moved by one pixel) and averages the
outputs, mapped back: ``tta`` times the work for a cleaner result from networks
trained with those flips (``augment``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

import numpy as np

from ._geometry import dihedral, group_by_shape, pad_bottom_right, round_up
from ._params import TILE_SIZE, TTA, TTA_LEVELS
from .models import NetworkContract

__all__ = [
    "PIXELS_PER_PASS",
    "TTA_SHIFTS",
    "TTA_TRANSFORMS",
    "Network",
    "average_views",
    "check_tta",
    "iter_predict",
    "plan_tiles",
    "predict_images",
    "resolve_tile_size",
]

#: A numpy array or a torch tensor (engines average their views in their own arrays).
A = TypeVar("A")

#: Most pixels one forward pass holds on the CPU (measured best for the reference
#: network with ``benchmarks/bench_inference.py``; activations fit in the caches).
PIXELS_PER_PASS = 2**19
#: Smallest core tile side chosen by ``tile_size="auto"``.
AUTO_TILE = 512


class Network(Protocol):
    """What :func:`predict_images` runs: an engine holding one network."""

    #: The network's ``size_multiple`` and ``receptive_margin``.
    contract: NetworkContract
    #: Most pixels per forward pass (``None``: ``batch_size`` images, e.g. on a GPU).
    pixels_per_pass: int | None

    def run(self, batch: np.ndarray, views: tuple[int, ...]) -> np.ndarray:
        """Clean ``[n, h, w]`` float32 pages: pad, average over the ``views``, crop, clip."""
        ...


def average_views(forward: Callable[[A], A], x: A, views: Sequence[int]) -> A:
    """Mean of ``forward`` over the flips/rotations ``views`` of ``x``, each mapped back.

    ``x`` is ``[N, C, H, W]``, a numpy array or a torch tensor (see :func:`dihedral`).
    """
    total: Any = None
    for k in views:
        pred = dihedral(forward(dihedral(x, k)), k, inverse=True)
        total = pred if total is None else total + pred
    return total if len(views) == 1 else total / len(views)


#: The flips/rotations (indices for :func:`dihedral`) averaged at each ``tta`` level:
#: none, a left-right flip, all four flips, the four flips of the page and of its
#: transpose (8, and at 16 and 32 for each offset in :data:`TTA_SHIFTS`).
TTA_TRANSFORMS = {
    1: (0,),
    2: (0, 2),
    4: (0, 1, 2, 3),
    8: tuple(range(8)),
    16: tuple(range(8)),
    32: tuple(range(8)),
}
assert tuple(TTA_TRANSFORMS) == TTA_LEVELS
#: Offsets ``(rows, columns)`` by which the page is moved (edge values fill in at the
#: top and left) before the flips/rotations, at each ``tta`` level (default: none).
#: A one-pixel move changes how pixels fall on the network's 2x2 pixel-phase and
#: pooling grids, whose seams a network does not learn perfectly.
TTA_SHIFTS: dict[int, tuple[tuple[int, int], ...]] = {
    16: ((0, 0), (1, 1)),
    32: ((0, 0), (0, 1), (1, 0), (1, 1)),
}


def check_tta(tta: Any) -> int:
    """Number of views for ``tta`` (False: 1, True: 8, or a level), else ValueError."""
    TTA.check("tta", tta)
    if isinstance(tta, (bool, np.bool_)):
        return 8 if tta else 1
    return int(tta)


def resolve_tile_size(tile_size: Any, contract: NetworkContract) -> tuple[int, int, int] | None:
    """Core tile side, margin and largest untiled side for a network (None: never tile).

    The margin is the network's ``receptive_margin`` rounded up to its
    ``size_multiple``, so tile origins stay on the grids of the network's strided
    layers. Networks without a ``receptive_margin`` are never tiled (see
    :func:`~docdenoise.models.network_contract`). ``"auto"`` picks the larger of
    :data:`AUTO_TILE` and eight margins (tiling then costs at most about 56 % extra
    work for networks with a large receptive field and about 6 % for the reference
    network) and tiles pages with a side over two tiles; an int is rounded up to
    ``size_multiple`` and tiles pages with a side over one tile and its margins.
    """
    TILE_SIZE.check("tile_size", tile_size)
    if tile_size is None or contract.receptive_margin is None:
        return None
    multiple = contract.size_multiple
    margin = round_up(contract.receptive_margin, multiple)
    if tile_size == "auto":
        tile = round_up(max(AUTO_TILE, 8 * margin), multiple)
        return tile, margin, 2 * tile
    tile = round_up(int(tile_size), multiple)
    return tile, margin, tile + 2 * margin


def plan_tiles(
    height: int, width: int, *, tile: int, margin: int, multiple: int
) -> list[tuple[slice, slice, slice, slice]]:
    """Cut a page into overlapping tiles whose cores cover it exactly once.

    Parameters
    ----------
    height, width : int
        Page size.
    tile : int
        Core tile side, a multiple of ``multiple``.
    margin : int
        Context added on each side of a core (clipped at the page border), a
        multiple of ``multiple``.
    multiple : int
        The network's ``size_multiple``; all tile edges lie on its grid.

    Returns
    -------
    tiles : list of (outer_rows, outer_cols, core_rows, core_cols)
        Slices of the page padded to ``multiple`` to feed the network, and the
        slices of the result they are responsible for (cropped to the page).
    """
    hp, wp = round_up(height, multiple), round_up(width, multiple)
    plan = []
    for top in range(0, hp, tile):
        bottom = min(top + tile, hp)
        rows = slice(max(0, top - margin), min(hp, bottom + margin))
        for left in range(0, wp, tile):
            right = min(left + tile, wp)
            cols = slice(max(0, left - margin), min(wp, right + margin))
            core_rows = slice(top, min(bottom, height))
            core_cols = slice(left, min(right, width))
            if core_rows.start < core_rows.stop and core_cols.start < core_cols.stop:
                plan.append((rows, cols, core_rows, core_cols))
    return plan


def _tiled(
    run: Callable[[np.ndarray], np.ndarray],
    image: np.ndarray,
    tile: int,
    margin: int,
    multiple: int,
) -> np.ndarray:
    """Clean one large page tile by tile; equals ``run`` on the whole page."""
    h, w = image.shape
    out = np.empty((h, w), dtype=np.float32)
    for rows, cols, core_rows, core_cols in plan_tiles(
        h, w, tile=tile, margin=margin, multiple=multiple
    ):
        # The outer box lies in the padded page; outside the image it is filled
        # with edge values, exactly as padding the whole page would.
        piece = image[rows.start : min(rows.stop, h), cols.start : min(cols.stop, w)]
        need_h, need_w = rows.stop - rows.start, cols.stop - cols.start
        piece = pad_bottom_right(piece, need_h - piece.shape[0], need_w - piece.shape[1])
        pred = run(np.ascontiguousarray(piece)[None])[0]
        out[core_rows, core_cols] = pred[
            core_rows.start - rows.start : core_rows.stop - rows.start,
            core_cols.start - cols.start : core_cols.stop - cols.start,
        ]
    return out


def predict_images(
    network: Network,
    images: Sequence[np.ndarray],
    *,
    batch_size: int,
    tile_size: int | str | None = None,
    tta: int = 1,
) -> list[np.ndarray]:
    """Run ``network`` over 2-D float32 images and return outputs of the same shapes.

    Images of equal size are batched together (at most ``batch_size`` images and
    ``network.pixels_per_pass`` pixels per forward pass); each batch is padded to
    the network's ``size_multiple``, passed through it, cropped back and clipped to
    ``[0, 1]``. Pages larger than a tile (see :func:`resolve_tile_size`) are cleaned
    tile by tile. ``tta`` (1, 2, 4, 8, 16 or 32) averages the outputs over that many
    views: flips/rotations (:data:`TTA_TRANSFORMS`) of the page, moved by the
    offsets of :data:`TTA_SHIFTS`.
    """
    n_views = check_tta(tta)
    views = TTA_TRANSFORMS[n_views]
    shifts = TTA_SHIFTS.get(n_views, ((0, 0),))
    tiling = resolve_tile_size(tile_size, network.contract)

    def predict(pages: Sequence[np.ndarray]) -> list[np.ndarray]:
        return _predict_pages(
            lambda batch: network.run(batch, views),
            pages,
            tiling=tiling,
            budget=network.pixels_per_pass,
            batch_size=batch_size,
            size_multiple=network.contract.size_multiple,
        )

    if len(shifts) == 1:
        return predict(images)
    total: list[np.ndarray] | None = None
    for dy, dx in shifts:
        moved = [np.pad(img, ((dy, 0), (dx, 0)), mode="edge") for img in images]
        pred = [p[dy:, dx:] for p in predict(moved)]
        total = pred if total is None else [t + p for t, p in zip(total, pred)]
    assert total is not None
    return [np.ascontiguousarray(t / np.float32(len(shifts))) for t in total]


def _predict_pages(
    run: Callable[[np.ndarray], np.ndarray],
    images: Sequence[np.ndarray],
    *,
    tiling: tuple[int, int, int] | None,
    budget: int | None,
    batch_size: int,
    size_multiple: int,
) -> list[np.ndarray]:
    """Apply ``run`` to pages batched by size, tiling the large ones."""
    out: list[np.ndarray | None] = [None] * len(images)
    for (h, w), idx in group_by_shape(images).items():
        if tiling is not None and max(h, w) > tiling[2]:
            for i in idx:
                out[i] = _tiled(run, images[i], tiling[0], tiling[1], size_multiple)
            continue
        per_pass = batch_size
        if budget is not None:
            area = round_up(h, size_multiple) * round_up(w, size_multiple)
            per_pass = max(1, min(batch_size, budget // area))
        for start in range(0, len(idx), per_pass):
            chunk = idx[start : start + per_pass]
            pred = run(np.stack([images[i] for i in chunk]))
            for j, i in enumerate(chunk):
                out[i] = pred[j]
    return out  # type: ignore[return-value]


def iter_predict(
    network: Network,
    images: Iterable[np.ndarray],
    *,
    batch_size: int,
    tile_size: int | str | None = None,
    tta: int = 1,
) -> Iterator[np.ndarray]:
    """Like :func:`predict_images` for a stream: read, clean and yield images in order.

    Only a window of consecutive images is held at a time (at most ``batch_size``
    images and about :data:`PIXELS_PER_PASS` pixels, or one page), so memory does
    not grow with the number of images.
    """

    def run(window: list[np.ndarray]) -> list[np.ndarray]:
        return predict_images(network, window, batch_size=batch_size, tile_size=tile_size, tta=tta)

    window: list[np.ndarray] = []
    pixels = 0
    for image in images:
        window.append(image)
        pixels += image.size
        if len(window) >= batch_size or pixels >= PIXELS_PER_PASS:
            yield from run(window)
            window, pixels = [], 0
    if window:
        yield from run(window)
