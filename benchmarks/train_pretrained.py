"""Train the pretrained model shipped in ``docdenoise/weights/`` (synthetic pages only).

The training data are pages from :func:`docdenoise.datasets.make_dirty_documents`
and nothing else, so the weights carry no third-party licence. Pages are generated
as training goes: a pool of ``--pool`` pages, one of which is replaced by a new page
every ``--refresh`` steps, so a long run sees tens of thousands of different pages.
Page ``k`` is always the same page (seed ``--seed`` and ``k``), and each step draws
its crops from a generator seeded by the step number, so a run is reproducible
and resumes exactly where a checkpoint left it.

The shipped model comes from three runs, each started from the weights of the one
before. The first two made the second shipped model, *v2*, with the generator as
it was at commit 00c9cff (scanner blur on 30 % of the pages); from the repository
root, about 80 and 20 minutes on 2 CPU cores::

    git show 701da23:docdenoise/weights/default.safetensors > benchmarks/results/v1.safetensors
    python benchmarks/train_pretrained.py --name stage1 --out benchmarks/results \
        --init benchmarks/results/v1.safetensors
    python benchmarks/train_pretrained.py --init benchmarks/results/stage1.safetensors \
        --steps 6000 --lr 3e-4 --warmup 100

The first line takes the first shipped model (a ``"unet"`` trained for 22 minutes)
from the git history; the second trains the ``"affine-unet"`` from it with the
defaults below; the third continues at a lower learning rate. Those two commands
reproduce v2 only at commit 00c9cff; v2 itself is in the git history. The last
run, with today's generator (every scan blurred a little), makes the shipped
model (about 27 minutes)::

    git show 00c9cff:docdenoise/weights/default.safetensors > benchmarks/results/v2.safetensors
    python benchmarks/train_pretrained.py --init benchmarks/results/v2.safetensors \
        --steps 15000 --lr 5e-4 --warmup 200

and writes ``docdenoise/weights/default.safetensors``. After an interruption, run
the same command with ``--resume``.

Every ``--checkpoint-minutes`` the script writes
``benchmarks/results/<name>.ckpt`` (network, optimizer, step; atomically), and
``--resume`` continues from it. It prints the training loss and, every
``--eval-every`` steps, the RMSE on held-out synthetic pages (other seeds). At
the end it writes ``docdenoise/weights/<name>.safetensors`` and its model card
``<name>.json``. Zero-shot scores on real scans come from
``benchmarks/zero_shot.py``; with ``--real`` (a folder of real pairs in the Kaggle
layout) the log also shows the RMSE on the real pages of ``--real-pages`` (the
split of ``zero_shot.py``; they are scored, never trained on), for the last and,
with ``--ema``, the averaged weights. Only that shows when training longer on
the generator's pages stops helping real scans.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from docdenoise import DocumentDenoiser, __version__
from docdenoise.datasets import make_dirty_documents
from docdenoise.datasets._synthetic import SCAN_NAMES
from docdenoise.metrics import rmse
from docdenoise.models import get_model_class

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "docdenoise" / "weights"
RESULTS = ROOT / "benchmarks" / "results"
#: Page shapes, in turn: the two Kaggle scan sizes, a small crop, a portrait page and
#: a larger crop, so the network sees text at many positions relative to borders.
SHAPES = ((258, 540), (420, 540), (320, 256), (540, 420), (640, 640))


def make_page(
    k: int, seed: int, stream: int = 0, scan: str = "varied"
) -> tuple[np.ndarray, np.ndarray]:
    """Page ``k`` of a stream (0: training, 1: held-out): a (noisy, black-ink clean) pair.

    The clean page has black ink whatever ink grey the noisy page shows: what
    people and OCR engines read best, and what the network should return.
    """
    shape = SHAPES[k % len(SHAPES)]
    scans = scan.split("+")
    rng = np.random.default_rng([seed, stream, k])
    X, Y = make_dirty_documents(
        1, shape=shape, random_state=rng, clean_ink="black", scan=scans[k % len(scans)]
    )
    return X[0], Y[0]


def scan_mix(value: str) -> str:
    """``--scan``: a scan profile, or profiles joined by ``+`` that pages take in turn.

    ``"sharpened+sharp-faded"`` makes even pages sharpened and odd pages
    sharp-faded; a name given twice is drawn twice as often. A single name
    draws the pages it always drew. The page shapes also go in turn
    (:data:`SHAPES`, five), so a list of five or ten names would tie each
    profile to one shape: that is refused.
    """
    names = value.split("+")
    unknown = [name for name in names if name not in SCAN_NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown scan profile(s) {unknown}; expected names from {list(SCAN_NAMES)} "
            "joined by '+'"
        )
    if len(names) % len(SHAPES) == 0:
        raise argparse.ArgumentTypeError(
            f"{len(names)} scan profiles would each fall on one of the "
            f"{len(SHAPES)} page shapes, which go in turn too; give another number"
        )
    return value


def page_in_slot(slot: int, refreshes: int, pool: int) -> int:
    """Index of the page that slot ``slot`` holds after ``refreshes`` replacements.

    Replacement ``t`` puts page ``pool + t`` into slot ``t % pool``.
    """
    if refreshes <= slot:
        return slot
    last = slot + (refreshes - 1 - slot) // pool * pool
    return pool + last


class PagePool:
    """Pages held for training, refreshed one at a time from the page stream."""

    def __init__(self, size: int, seed: int, refreshes: int = 0, scan: str = "varied") -> None:
        self.size, self.seed, self.refreshes, self.scan = size, seed, refreshes, scan
        self.pages = [
            make_page(page_in_slot(j, refreshes, size), seed, scan=scan) for j in range(size)
        ]

    def refresh(self) -> None:
        t = self.refreshes
        self.pages[t % self.size] = make_page(self.size + t, self.seed, scan=self.scan)
        self.refreshes += 1

    def batch(self, n: int, patch: int, rng: np.random.Generator) -> tuple[torch.Tensor, ...]:
        """``n`` random crops (flipped/rotated at random) as ``[n, 1, p, p]`` tensors."""
        return random_crops(self.pages, n, patch, rng)


def random_crops(
    pairs: list[tuple[np.ndarray, np.ndarray]], n: int, patch: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` random ``patch``-pixel crops of (noisy, clean) pairs, flipped/rotated at random.

    Returns two ``[n, 1, patch, patch]`` tensors, the same crop of each side.
    """
    xs, ys = [], []
    for _ in range(n):
        x, y = pairs[int(rng.integers(len(pairs)))]
        h, w = x.shape
        top, left = int(rng.integers(h - patch + 1)), int(rng.integers(w - patch + 1))
        k = int(rng.integers(8))
        for src, out in ((x, xs), (y, ys)):
            crop = src[top : top + patch, left : left + patch]
            crop = np.rot90(crop, k % 4)
            out.append(np.ascontiguousarray(crop[:, ::-1] if k >= 4 else crop))
    return (torch.from_numpy(np.stack(xs))[:, None], torch.from_numpy(np.stack(ys))[:, None])


def score_pairs(net: torch.nn.Module, pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Pooled RMSE of ``net`` on whole (noisy, clean) pages, padded to a multiple of 16.

    The network is put in eval mode for the scoring and back in training mode after.
    """
    net.eval()
    with torch.inference_mode():
        preds = [
            net(F.pad(torch.from_numpy(x)[None, None], _pad(x.shape, 16), mode="replicate"))[
                0, 0, : x.shape[0], : x.shape[1]
            ].numpy()
            for x, _ in pairs
        ]
    net.train()
    return rmse([y for _, y in pairs], preds)


def stroke_weights(y: torch.Tensor, weight: float) -> torch.Tensor:
    """1 on paper, ``1 + weight`` on and within one pixel of ink (clean < 0.9)."""
    ink = (y < 0.9).float()
    near = F.max_pool2d(ink, kernel_size=3, stride=1, padding=1)
    return 1.0 + weight * near


def dark_weights(pred: torch.Tensor, y: torch.Tensor, weight: float) -> torch.Tensor:
    """``1 + weight`` where the output is darker than a clean pixel that is not full ink.

    Stroke edges and paper left too dark (bold strokes, stain residue) are what
    Tesseract reads worse; ink cores (clean at most 0.1) are not penalised more.
    """
    return 1.0 + weight * ((pred < y) & (y > 0.1)).to(pred.dtype)


def ink_map(page: torch.Tensor, threshold: float = 0.5, softness: float = 0.1) -> torch.Tensor:
    """How much each pixel reads as ink when binarised at ``threshold`` (0 to 1, smooth).

    A sigmoid of ``(threshold - page) / softness``: near 1 on ink, near 0 on paper,
    with a gradient where the page is within a few ``softness`` of the threshold.
    """
    return torch.sigmoid((threshold - page) / softness)


def _erode(ink: torch.Tensor) -> torch.Tensor:
    # Minimum over the pixel and its 4 neighbours (a cross): max-pooling the negation
    # along each axis keeps diagonal strokes one pixel wide from vanishing at once.
    across = -F.max_pool2d(-ink, kernel_size=(3, 1), stride=1, padding=(1, 0))
    along = -F.max_pool2d(-ink, kernel_size=(1, 3), stride=1, padding=(0, 1))
    return torch.minimum(across, along)


def _dilate(ink: torch.Tensor) -> torch.Tensor:
    return F.max_pool2d(ink, kernel_size=3, stride=1, padding=1)


def soft_skeleton(ink: torch.Tensor, iterations: int = 5) -> torch.Tensor:
    """Centre lines of the strokes of an ink map, differentiably (values 0 to 1).

    Morphological skeleton by repeated erosion: at each step, what an opening
    (erosion then dilation) removes is a ridge of the ink at that depth. Strokes up
    to ``2 * iterations + 1`` pixels wide keep a skeleton. Min- and max-pooling
    pass gradients to the pixels they pick, so the skeleton of the network's
    output can be pushed into place (as in soft-clDice, Shit et al., CVPR 2021).
    """
    eroded = _erode(ink)
    skeleton = F.relu(ink - _dilate(eroded))
    for _ in range(iterations):
        # The next depth's opening erodes what this depth already eroded: reuse it.
        ink, eroded = eroded, _erode(eroded)
        ridge = F.relu(ink - _dilate(eroded))
        skeleton = skeleton + F.relu(ridge - skeleton * ridge)
    return skeleton


def skeleton_loss(
    pred: torch.Tensor, y: torch.Tensor, threshold: float = 0.5, softness: float = 0.1
) -> torch.Tensor:
    """1 - soft-clDice between the binarised output and the binarised clean page.

    Two shares, over the batch: of the clean page's stroke centre lines, how much
    the output draws as ink (low where a stroke is broken or a letter part lost),
    and of the output's centre lines, how much lies in the clean page's ink (low
    where a crease leaves a dash, or strokes merge). Their harmonic mean is 1 when
    the output has the clean page's strokes, whatever their grey edges: a proxy of
    what an OCR engine reads after binarising, which plain MSE weighs by area.
    """
    ink_pred = ink_map(pred, threshold, softness)
    with torch.no_grad():
        # The clean page binarised hard: a soft map would be 0.99 on black ink, and
        # a skeleton there would then lower the precision instead of raising it.
        ink_true = (y < threshold).to(pred.dtype)
        skel_true = soft_skeleton(ink_true)
    skel_pred = soft_skeleton(ink_pred)
    eps = 1.0
    precision = ((skel_pred * ink_true).sum() + eps) / (skel_pred.sum() + eps)
    sensitivity = ((skel_true * ink_pred).sum() + eps) / (skel_true.sum() + eps)
    return 1.0 - 2.0 * precision * sensitivity / (precision + sensitivity)


def binary_loss(
    pred: torch.Tensor,
    y: torch.Tensor,
    thresholds: tuple[float, ...] = (0.3, 0.5, 0.7),
    softness: float = 0.05,
) -> torch.Tensor:
    """Mean squared difference of the soft ink maps of output and clean page.

    Averaged over binarisation thresholds: it counts the pixels that an OCR
    engine's binarisation would put on the other side of the stroke's outline,
    and nothing for grey levels that stay on the right side.
    """
    return torch.stack(
        [((ink_map(pred, t, softness) - ink_map(y, t, softness)) ** 2).mean() for t in thresholds]
    ).mean()


def lr_at(step: int, total: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return base * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def wrap(module: torch.nn.Module, args: argparse.Namespace) -> DocumentDenoiser:
    """The trained network as a fitted estimator with the fine-tuning defaults.

    ``history_`` starts empty: it lists the epochs of ``fit`` (fine-tuning), and the
    pretraining log (steps, not epochs) goes into the model card instead.
    """
    den = DocumentDenoiser(
        args.model,
        **{f"module__{k}": v for k, v in json.loads(args.module_kwargs).items()},
        # Fine-tuning defaults: what fine-tuned best in a fixed time on real pairs
        # (benchmarks/train_real.py finetune, see the model card), whatever crop
        # size the pretraining used (v4 shipped with its 256 by mistake).
        patch_size=128,
        patches_per_image=8,
        warm_start=True,
        epochs=10,
        lr=2e-3,
        batch_size=4,
        augment="flips",
        lr_schedule="cosine",
        validation_fraction=0.1,
        random_state=args.seed,
    )
    den.module_ = module.eval()
    den.optimizer_ = None
    den.device_ = torch.device("cpu")
    den.history_ = []
    return den


def save_checkpoint(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="default")
    parser.add_argument("--model", default="affine-unet")
    parser.add_argument("--module-kwargs", default="{}", help="JSON keyword arguments")
    parser.add_argument("--steps", type=int, default=24000, help="optimizer steps in all")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--patch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=500, help="steps of linear warm-up")
    parser.add_argument(
        "--stroke-weight",
        type=float,
        default=5.0,
        help="extra loss weight on and next to ink (0: plain MSE)",
    )
    parser.add_argument(
        "--dark-weight",
        type=float,
        default=0.0,
        help="extra loss weight where the output is darker than clean edges or paper (0: off)",
    )
    parser.add_argument(
        "--skeleton-weight",
        type=float,
        default=0.0,
        help="weight of 1 - soft-clDice between the binarised output's and clean page's "
        "strokes, added to the loss (0: off)",
    )
    parser.add_argument(
        "--binary-weight",
        type=float,
        default=0.0,
        help="weight of the squared difference of soft binarisations (thresholds 0.3, "
        "0.5, 0.7) of output and clean page, added to the loss (0: off)",
    )
    parser.add_argument(
        "--scan",
        type=scan_mix,
        default="varied",
        help="scan profile of the generated pages (make_dirty_documents' scan), or "
        "profiles joined by '+' that the pages take in turn (page k: the k-th modulo "
        "their number), e.g. 'sharpened+sharp-faded'",
    )
    parser.add_argument("--pool", type=int, default=512, help="pages held for training")
    parser.add_argument("--refresh", type=int, default=8, help="steps per new page")
    parser.add_argument("--test-pages", type=int, default=40)
    parser.add_argument("--eval-every", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", help="start from the weights of this model file")
    parser.add_argument(
        "--ema",
        type=float,
        default=0.0,
        help="keep an exponential moving average of the weights with this decay per step "
        "(e.g. 0.999) and ship it instead of the last weights (0: off)",
    )
    parser.add_argument(
        "--real",
        help="folder of real pairs in the Kaggle layout to score (never train on) at each "
        "evaluation, e.g. ../shared/data/ddd-dev",
    )
    parser.add_argument(
        "--real-pages",
        choices=("design", "heldout", "all"),
        default="design",
        help="which of the real pages to score (the split of benchmarks/zero_shot.py)",
    )
    parser.add_argument("--checkpoint-minutes", type=float, default=5.0)
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    parser.add_argument("--out", default=str(WEIGHTS), help="folder for the model file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ckpt_path = RESULTS / f"{args.name}.ckpt"

    torch.manual_seed(args.seed)
    module = get_model_class(args.model)(**json.loads(args.module_kwargs))
    optimizer = torch.optim.Adam(module.parameters(), lr=args.lr)
    step, history, elapsed, running = 0, [], 0.0, 0.0
    if args.resume:
        state = torch.load(ckpt_path, weights_only=False)
        module.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, history, elapsed = state["step"], state["history"], state["elapsed"]
        running = state.get("running", 0.0)
        print(f"resumed {ckpt_path} at step {step} ({elapsed / 60:.0f} min trained)", flush=True)
    elif args.init:
        src = DocumentDenoiser.load(args.init).module_.state_dict()
        missing, unexpected = module.load_state_dict(src, strict=False)
        print(f"initialised from {args.init} (new: {missing}, unused: {unexpected})", flush=True)
    module.to(memory_format=torch.channels_last)
    ema = None
    if args.ema:
        # torch's own averaging wrapper: a copy of the network whose weights follow
        # w_ema <- decay * w_ema + (1 - decay) * w after every optimizer step.
        ema = AveragedModel(module, multi_avg_fn=get_ema_multi_avg_fn(args.ema))
        if args.resume and "ema" in state:
            ema.load_state_dict(state["ema"])

    tic = time.perf_counter()
    pool = PagePool(args.pool, args.seed, refreshes=step // args.refresh, scan=args.scan)
    tests = [make_page(k, args.seed, stream=1, scan=args.scan) for k in range(args.test_pages)]
    print(
        f"generated {args.pool} + {len(tests)} pages in {time.perf_counter() - tic:.0f}s",
        flush=True,
    )

    real: list[tuple[np.ndarray, np.ndarray]] = []
    if args.real:
        # Real pairs are only scored, never trained on: the log then shows whether
        # what the network learns on the generator's pages carries over to scans.
        from zero_shot import select_pages

        noisy, clean, _ = select_pages(args.real, args.real_pages)
        real = list(zip(noisy, clean))
        print(f"scoring {len(real)} real pages ({args.real_pages}) of {args.real}", flush=True)

    def current_scores() -> dict[str, float]:
        out = {"test_rmse": score_pairs(module, tests)}
        if ema is not None:
            out["ema_test_rmse"] = score_pairs(ema.module, tests)
        if real:
            out["real_rmse"] = score_pairs(module, real)
            if ema is not None:
                out["ema_real_rmse"] = score_pairs(ema.module, real)
        return out

    last_ckpt = time.perf_counter()
    started = time.perf_counter() - elapsed
    module.train()
    while step < args.steps:
        rng = np.random.default_rng([args.seed, step])
        x, y = pool.batch(args.batch_size, args.patch_size, rng)
        x = x.contiguous(memory_format=torch.channels_last)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        optimizer.zero_grad(set_to_none=True)
        pred = module(x)
        err = (pred - y) ** 2
        if args.stroke_weight:
            err = err * stroke_weights(y, args.stroke_weight)
        if args.dark_weight:
            err = err * dark_weights(pred.detach(), y, args.dark_weight)
        loss = err.mean()
        if args.skeleton_weight:
            loss = loss + args.skeleton_weight * skeleton_loss(pred, y)
        if args.binary_weight:
            loss = loss + args.binary_weight * binary_loss(pred, y)
        loss.backward()
        optimizer.step()
        if ema is not None:
            ema.update_parameters(module)
        step += 1
        value = loss.item()
        running = 0.98 * running + 0.02 * value if running else value
        if step % args.refresh == 0:
            pool.refresh()
        if step % args.eval_every == 0 or step == args.steps:
            record = {
                "step": step,
                "train_loss": running,
                **current_scores(),
                "minutes": (time.perf_counter() - started) / 60,
            }
            history.append(record)
            line = f"step {step:6d}  loss {running:.5f}  synthetic test RMSE "
            line += f"{record['test_rmse']:.4f}"
            if ema is not None:
                line += f" (average {record['ema_test_rmse']:.4f})"
            if real:
                line += f"  real RMSE {record['real_rmse']:.4f}"
                if ema is not None:
                    line += f" (average {record['ema_real_rmse']:.4f})"
            print(line + f"  {record['minutes']:.0f} min", flush=True)
        if time.perf_counter() - last_ckpt > 60 * args.checkpoint_minutes or step == args.steps:
            save_checkpoint(
                ckpt_path,
                {
                    "step": step,
                    "model": module.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "history": history,
                    "elapsed": time.perf_counter() - started,
                    "args": vars(args),
                    "running": running,
                    **({"ema": ema.state_dict()} if ema is not None else {}),
                },
            )
            last_ckpt = time.perf_counter()

    if ema is not None:
        module = ema.module
    module.to(memory_format=torch.contiguous_format)
    den = wrap(module, args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{args.name}.safetensors"
    den.save(path)
    noisy = [x for x, _ in tests]
    clean = [y for _, y in tests]
    scores = {"noisy": rmse(clean, noisy), "network": rmse(clean, den.transform(noisy))}
    card = {
        "name": args.name,
        "library_version": __version__,
        "architecture": type(module).__name__,
        "model": args.model,
        "channels": list(getattr(module, "channels", [])),
        "module_kwargs": json.loads(args.module_kwargs),
        "n_parameters": sum(p.numel() for p in module.parameters()),
        "training_data": {
            "generator": "docdenoise.datasets.make_dirty_documents",
            "pages_seen": args.pool + step // args.refresh,
            "shapes": [list(s) for s in SHAPES],
            "seed": args.seed,
            "clean_ink": "black",
            "scan": args.scan,
        },
        "recipe": {
            "steps": step,
            "batch_size": args.batch_size,
            "patch_size": args.patch_size,
            "optimizer": "adam",
            "lr": args.lr,
            "lr_schedule": "cosine",
            "warmup": args.warmup,
            "stroke_weight": args.stroke_weight,
            **{  # the optional loss terms, where used
                key: getattr(args, key)
                for key in ("dark_weight", "skeleton_weight", "binary_weight")
                if getattr(args, key)
            },
            "weights": f"moving average, decay {args.ema}" if args.ema else "last step",
            "augment": "flips",
            "pool": args.pool,
            "refresh": args.refresh,
            "threads": args.threads,
            "init": args.init,
            "minutes": round(history[-1]["minutes"], 1) if history else None,
            "command": "python benchmarks/train_pretrained.py "
            + " ".join(
                f"--{k.replace('_', '-')} {shlex.quote(str(v))}"
                for k, v in vars(args).items()
                if v not in (None, False) and k not in ("resume", "out", "real", "real_pages")
            ),
        },
        "synthetic_test_rmse": {k: round(v, 5) for k, v in scores.items()},
        "log": [{k: round(v, 5) for k, v in r.items()} for r in history],
        "licence": "BSD-3-Clause (trained on synthetic pages only)",
    }
    (out / f"{args.name}.json").write_text(json.dumps(card, indent=2) + "\n")
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) and {args.name}.json; "
        f"synthetic test RMSE noisy {scores['noisy']:.4f}, network {scores['network']:.4f}"
    )


def _pad(shape: tuple[int, ...], multiple: int) -> tuple[int, int, int, int]:
    h, w = shape
    return (0, -w % multiple, 0, -h % multiple)


if __name__ == "__main__":
    main()
