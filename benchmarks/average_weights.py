"""Average the weights of saved models of one architecture (a "model soup").

Two runs that start from the same weights and train on different pages end in
nearby minima; the mean of their weights is often a model as good as either on
the pages they share and better where one of them drifted. The shipped model v16
is the mean of v7 and v15 (v7 trained further on pages with inverse ink): it
keeps most of v15's lower pixel error on real scans and v7's reading by
Tesseract (see *What was tried* in the model card).

The models must have the same network (same tensors, names and shapes); integer
tensors (counters) must be equal. The result takes the first model's parameters
(its ``device`` included) and history and is written with
:meth:`DocumentDenoiser.save`; an existing file is never overwritten unless
``--force``.

Usage (from the repository root)::

    python benchmarks/average_weights.py a.safetensors b.safetensors --out soup.safetensors
    python benchmarks/average_weights.py default b.safetensors --out soup.safetensors
    python benchmarks/average_weights.py a.safetensors b.safetensors --weights 0.7 0.3 \\
        --out soup.safetensors
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _models import load_model  # benchmarks/_models.py

from docdenoise import DocumentDenoiser


def average_weights(paths: list[str], weights: list[float] | None = None) -> DocumentDenoiser:
    """A model whose tensors are the weighted mean of the models at ``paths``.

    Each is a shipped model's name or a model file (``benchmarks/_models.py``).

    ``weights`` (default: equal) must be one non-negative number per model; they
    are normalised to sum to one.
    """
    if len(paths) < 2:
        raise SystemExit(f"need at least two model files to average, got {len(paths)}")
    weights = [1.0] * len(paths) if weights is None else list(weights)
    if len(weights) != len(paths) or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise SystemExit(
            f"expected {len(paths)} non-negative --weights with a positive sum, got {weights}"
        )
    total = sum(weights)
    weights = [w / total for w in weights]
    # The first model keeps its saved parameters (device="auto" stays "auto"); the
    # arithmetic is done on CPU copies.
    models = [load_model(paths[0])]
    models += [load_model(p, device="cpu") for p in paths[1:]]
    states = [{k: t.detach().cpu() for k, t in m.module_.state_dict().items()} for m in models]
    first = states[0]
    for path, state in zip(paths[1:], states[1:]):
        if state.keys() != first.keys() or any(state[k].shape != first[k].shape for k in first):
            raise SystemExit(
                f"{path} has another network than {paths[0]} (tensor names or shapes "
                "differ); only models of one architecture can be averaged"
            )
    mean = {}
    for key, tensor in first.items():
        if tensor.is_floating_point():
            mean[key] = sum(w * s[key] for w, s in zip(weights, states))
        elif all(bool((s[key] == tensor).all()) for s in states):
            mean[key] = tensor
        else:
            raise SystemExit(f"integer tensor {key!r} differs between the models")
    models[0].module_.load_state_dict(mean)
    return models[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="shipped model names or model files")
    parser.add_argument("--weights", type=float, nargs="+", help="one per model (default: equal)")
    parser.add_argument("--out", required=True, help="where to write the averaged model")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    args = parser.parse_args()
    if Path(args.out).exists() and not args.force:
        raise SystemExit(f"{args.out} exists; pass --force to overwrite it")
    average_weights(args.models, args.weights).save(args.out)
    print(f"wrote {args.out}: the mean of {len(args.models)} models")


if __name__ == "__main__":
    main()
