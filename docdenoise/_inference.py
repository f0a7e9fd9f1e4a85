"""Inference: batch images by size, tile large pages, pad to what the network needs, crop back.

Speed on the CPU (figures in ``docs/performance.rst``, from ``benchmarks/bench_*.py``):

* the network runs in ``torch.channels_last`` memory format, which oneDNN executes
  2-3x faster than the default NCHW layout for these small-channel convolutions;
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

import copy
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ._geometry import dihedral, group_by_shape, pad_bottom_right, pad_to_multiple, round_up
from ._params import TILE_SIZE, TTA, TTA_LEVELS
from .models import NetworkContract, network_contract

__all__ = [
    "PIXELS_PER_PASS",
    "TTA_SHIFTS",
    "TTA_TRANSFORMS",
    "check_tta",
    "inference_module",
    "iter_predict",
    "plan_tiles",
    "predict_images",
    "resolve_tile_size",
]

#: Most pixels one forward pass holds on the CPU (measured best for the reference
#: network with ``benchmarks/bench_inference.py``; activations fit in the caches).
PIXELS_PER_PASS = 2**19
#: Smallest core tile side chosen by ``tile_size="auto"``.
AUTO_TILE = 512
#: Memory format of the network and its input on the CPU (the benchmarks switch it).
CPU_LAYOUT = torch.channels_last


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


def inference_module(module: nn.Module, device: torch.device) -> nn.Module:
    """An eval-mode copy of ``module`` laid out for fast inference on ``device``.

    On the CPU the copy uses ``torch.channels_last``; the caller's module (and the
    layout of what it saves) is left untouched.
    """
    fast = copy.deepcopy(module).eval()
    if device.type == "cpu":
        # Module.to accepts memory_format at runtime, but torch's stubs lack that overload.
        fast = fast.to(memory_format=CPU_LAYOUT)  # type: ignore[call-overload]
    return fast


def _runner(
    module: nn.Module, device: torch.device, multiple: int, tta: int = 1
) -> Callable[[np.ndarray], np.ndarray]:
    """Return ``f(batch [n, h, w] float32) -> cleaned [n, h, w] float32``.

    With ``tta`` > 1 the network also runs on flipped/rotated copies of the padded
    batch (:data:`TTA_TRANSFORMS`) and the outputs, mapped back, are averaged.
    """
    layout = CPU_LAYOUT if device.type == "cpu" else torch.contiguous_format
    transforms = TTA_TRANSFORMS[tta]

    def run(batch: np.ndarray) -> np.ndarray:
        n, h, w = batch.shape
        x = torch.from_numpy(batch).unsqueeze(1).to(device)
        x = pad_to_multiple(x, multiple)
        total = None
        for k in transforms:
            pred = module(dihedral(x, k).contiguous(memory_format=layout))
            pred = dihedral(pred, k, inverse=True)
            total = pred if total is None else total.add_(pred)
        assert total is not None
        if len(transforms) > 1:
            total = total.div_(len(transforms))
        return total[:, 0, :h, :w].clamp_(0.0, 1.0).cpu().numpy()

    return run


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
    module: nn.Module,
    images: Sequence[np.ndarray],
    *,
    device: torch.device,
    batch_size: int,
    tile_size: int | str | None = None,
    tta: int = 1,
    prepared: bool = False,
) -> list[np.ndarray]:
    """Run ``module`` over 2-D float32 images and return outputs of the same shapes.

    Images of equal size are batched together (at most ``batch_size`` images and,
    on the CPU, about :data:`PIXELS_PER_PASS` pixels per forward pass); each batch
    is padded to the network's ``size_multiple``, passed through it, cropped back and
    clipped to ``[0, 1]``. Pages larger than a tile (see :func:`resolve_tile_size`)
    are cleaned tile by tile. ``tta`` (1, 2, 4, 8, 16 or 32) averages the outputs
    over that many views: flips/rotations (:data:`TTA_TRANSFORMS`) of the page,
    moved by the offsets of :data:`TTA_SHIFTS`. ``prepared=True`` says ``module``
    already comes from :func:`inference_module`.
    """
    fast = module if prepared else inference_module(module, device)
    n_views = check_tta(tta)
    contract = network_contract(fast)
    size_multiple = contract.size_multiple
    run = _runner(fast, device, size_multiple, n_views)
    shifts = TTA_SHIFTS.get(n_views, ((0, 0),))
    tiling = resolve_tile_size(tile_size, contract)
    budget = PIXELS_PER_PASS if device.type == "cpu" else None

    def predict(pages: Sequence[np.ndarray]) -> list[np.ndarray]:
        return _predict_pages(
            run,
            pages,
            tiling=tiling,
            budget=budget,
            batch_size=batch_size,
            size_multiple=size_multiple,
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
    with torch.inference_mode():
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
    module: nn.Module,
    images: Iterable[np.ndarray],
    *,
    device: torch.device,
    batch_size: int,
    tile_size: int | str | None = None,
    tta: int = 1,
) -> Iterator[np.ndarray]:
    """Like :func:`predict_images` for a stream: read, clean and yield images in order.

    Only a window of consecutive images is held at a time (at most ``batch_size``
    images and about :data:`PIXELS_PER_PASS` pixels, or one page), so memory does
    not grow with the number of images.
    """
    fast = inference_module(module, device)

    def run(window: list[np.ndarray]) -> list[np.ndarray]:
        return predict_images(
            fast,
            window,
            device=device,
            batch_size=batch_size,
            tile_size=tile_size,
            tta=tta,
            prepared=True,
        )

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
