"""
===============================================
Tune the learning rate and epochs with a search
===============================================

:class:`~docdenoise.DocumentDenoiser` is a scikit-learn estimator, so
:class:`~sklearn.model_selection.GridSearchCV` tunes it like any other: every
parameter, including the nested ``module__*`` (network) and ``optimizer__*``
ones, can go in the grid. Scoring uses the image metrics of
:mod:`docdenoise.metrics`, which score ``transform`` (a denoiser has no
``predict``). The searches below are tiny so that the page builds in seconds;
the scale of a real search is in the notes at the end.
"""

# %%
# Pages of two sizes
# ------------------
# Pages come as a *list* of 2-D arrays, so they need not share a size;
# scikit-learn's cross-validation splits lists like arrays. We keep a few pages
# aside to look at the chosen model at the end.
import numpy as np
from sklearn.model_selection import GridSearchCV

from docdenoise import DocumentDenoiser
from docdenoise.datasets import make_dirty_documents
from docdenoise.metrics import psnr
from docdenoise.plotting import plot_before_after
from docdenoise.scorers import neg_rmse_scorer, psnr_scorer, ssim_scorer

wide_noisy, wide_clean = make_dirty_documents(15, shape=(64, 128), random_state=0)
tall_noisy, tall_clean = make_dirty_documents(15, shape=(96, 80), random_state=1)
noisy = [p for pair in zip(wide_noisy, tall_noisy) for p in pair]
clean = [p for pair in zip(wide_clean, tall_clean) for p in pair]
X, y = noisy[:24], clean[:24]
X_test, y_test = noisy[24:], clean[24:]
print(f"{len(X)} pages for the search, sizes {sorted({p.shape for p in X})}")

# %%
# Learning rate x epochs
# ----------------------
# Three scorers are computed for every candidate; ``refit="psnr"`` picks the
# winner by PSNR and retrains it on all 24 pages. ``n_jobs=2`` fits two
# candidates at a time, each in its own process with one share of the CPU
# cores, so the workers do not compete for them. ``validation_fraction=0``
# trains on the whole training fold (the search's test folds do the validating).
base = DocumentDenoiser(batch_size=4, validation_fraction=0.0, random_state=0)
search = GridSearchCV(
    base,
    {"lr": [1e-3, 3e-3, 1e-2], "epochs": [10, 40]},
    cv=3,
    scoring={"psnr": psnr_scorer, "neg_rmse": neg_rmse_scorer, "ssim": ssim_scorer},
    refit="psnr",
    n_jobs=2,
)
search.fit(X, y)

res = search.cv_results_
print(f"{'lr':>7s} {'epochs':>6s}  {'PSNR dB':>13s}  {'RMSE':>6s}  {'SSIM':>5s}  rank")
for i, params in enumerate(res["params"]):
    print(
        f"{params['lr']:7.0e} {params['epochs']:6d}  "
        f"{res['mean_test_psnr'][i]:6.2f} ± {res['std_test_psnr'][i]:4.2f}  "
        f"{-res['mean_test_neg_rmse'][i]:6.4f}  {res['mean_test_ssim'][i]:5.3f}  "
        f"{res['rank_test_psnr'][i]}"
    )
print("best:", search.best_params_, f"(PSNR {search.best_score_:.2f} dB)")

# %%
# The same numbers as a picture: PSNR per learning rate, one line per number of
# epochs, with the spread over the three folds; the dashed line is the noisy
# input itself.
import matplotlib.pyplot as plt

lrs = sorted({p["lr"] for p in res["params"]})
fig, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
for epochs in sorted({p["epochs"] for p in res["params"]}):
    rows = [i for i, p in enumerate(res["params"]) if p["epochs"] == epochs]
    rows.sort(key=lambda i: res["params"][i]["lr"])
    ax.errorbar(
        lrs,
        res["mean_test_psnr"][rows],
        yerr=res["std_test_psnr"][rows],
        marker="o",
        capsize=3,
        label=f"{epochs} epochs",
    )
ax.axhline(psnr(y, X), color="grey", linestyle="--", label="noisy input")
ax.set_xscale("log")
ax.set_xlabel("learning rate (lr)")
ax.set_ylabel("cross-validated PSNR (dB)")
ax.legend()

# %%
# Nested parameters
# -----------------
# ``module__channels`` sets the width of the network and
# ``optimizer__weight_decay`` the optimizer's L2 penalty; a search reaches them
# like any other parameter, starting from the learning rate found above.
nested = GridSearchCV(
    base.set_params(**search.best_params_),
    {"module__channels": [(8, 16), (16, 32)], "optimizer__weight_decay": [0.0, 1e-4]},
    cv=3,
    scoring=psnr_scorer,
    n_jobs=2,
)
nested.fit(X, y)
for params, score in zip(nested.cv_results_["params"], nested.cv_results_["mean_test_score"]):
    print(params, f"PSNR {score:.2f} dB")
best = nested.best_estimator_
n_weights = sum(p.numel() for p in best.module_.parameters())
print("best:", nested.best_params_, f"-> a network of {n_weights:,} weights")

# %%
# The chosen model on pages it has not seen
# -----------------------------------------
# ``best_estimator_`` was refitted on all search pages; the search object itself
# forwards ``transform`` to it.
cleaned = nested.transform(X_test)
print(
    f"PSNR on held-out pages: noisy {psnr(y_test, X_test):.2f} dB -> cleaned "
    f"{psnr(y_test, cleaned):.2f} dB"
)
fig = plot_before_after(X_test, cleaned, y_test, max_images=2)

# %%
# Notes for real searches
# -----------------------
# * Each candidate trains from scratch ``cv`` times, so keep grids small and use
#   :func:`~sklearn.model_selection.RandomizedSearchCV` for more than two or
#   three parameters.
# * Pages of real scans come in groups (several crops or pages of one document);
#   pass ``groups`` with a :class:`~sklearn.model_selection.GroupKFold` so a
#   document never sits on both sides of a split (see the cross-validation
#   example).
# * ``n_jobs=k`` runs k fits at once, each with ``cpu_count // k`` torch threads.
#   On a dask cluster, run the ``fit`` inside
#   ``joblib.parallel_backend("dask", scatter=[X, y])`` (see
#   :mod:`docdenoise.parallel`).
print(f"mean fit time per candidate: {np.mean(res['mean_fit_time']):.2f} s")
