"""
=================================================
Cross-validate a denoiser against simple cleaners
=================================================

Is a learned denoiser better than a classical filter, or than doing nothing? One
train/test split gives one number that may be luck; cross-validation gives one
number per fold and shows the spread. Because
:class:`~docdenoise.DocumentDenoiser` is a scikit-learn estimator,
:func:`~sklearn.model_selection.cross_validate` runs it, with
:mod:`docdenoise.scorers`, next to any other transformer.
"""

# %%
# Crops of a few documents
# ------------------------
# Real scan collections hold several crops (or pages) of the same document,
# sharing its paper, stains and typeface. A fair split keeps every document on
# one side: here we cut each of 8 synthetic pages into 3 crops of different
# widths and label each crop with its page. The crops do not share a size, so
# they travel as a list of 2-D arrays.
import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.preprocessing import FunctionTransformer

from docdenoise import DocumentDenoiser
from docdenoise.baselines import ClassicalDenoiser
from docdenoise.datasets import make_dirty_documents
from docdenoise.plotting import plot_before_after
from docdenoise.scorers import neg_rmse_scorer, psnr_scorer, ssim_scorer

pages_noisy, pages_clean = make_dirty_documents(8, shape=(80, 288), random_state=0)
cuts = [0, 80, 176, 288]  # crops 80, 96 and 112 pixels wide
noisy, clean, groups = [], [], []
for page, (n, c) in enumerate(zip(pages_noisy, pages_clean)):
    for left, right in zip(cuts[:-1], cuts[1:]):
        noisy.append(n[:, left:right])
        clean.append(c[:, left:right])
        groups.append(page)
print(
    f"{len(noisy)} crops of {len(set(groups))} documents, sizes {sorted({x.shape for x in noisy})}"
)

# %%
# Three cleaners, four folds
# --------------------------
# ``GroupKFold(4)`` trains on 6 documents and tests on the other 2, four times.
# The model trained in each fold is compared with median-filter background
# removal (:class:`~docdenoise.baselines.ClassicalDenoiser`), with the identity,
# which scores the noisy input itself, and with the pretrained model shipped with
# docdenoise, frozen (:class:`sklearn.frozen.FrozenEstimator`) so that the folds
# only evaluate it. None of these three learns anything here, but
# :func:`~sklearn.model_selection.cross_validate` calls their ``fit`` all the same.
cleaners = {
    "noisy input (identity)": FunctionTransformer(),
    "median background removal": ClassicalDenoiser(method="median"),
    "DocumentDenoiser": DocumentDenoiser(
        epochs=40, lr=3e-3, batch_size=4, validation_fraction=0.0, random_state=0
    ),
    "pretrained (frozen)": FrozenEstimator(DocumentDenoiser.pretrained()),
}
scoring = {"psnr": psnr_scorer, "neg_rmse": neg_rmse_scorer, "ssim": ssim_scorer}
cv = GroupKFold(n_splits=4)
results = {
    name: cross_validate(est, noisy, clean, groups=groups, cv=cv, scoring=scoring, n_jobs=2)
    for name, est in cleaners.items()
}

print(f"{'':28s} {'PSNR dB':>13s}  {'RMSE':>15s}  {'SSIM':>13s}")
for name, res in results.items():
    psnr_, rmse_, ssim_ = res["test_psnr"], -res["test_neg_rmse"], res["test_ssim"]
    print(
        f"{name:28s} {psnr_.mean():6.2f} ± {psnr_.std():4.2f}  "
        f"{rmse_.mean():.4f} ± {rmse_.std():.4f}  {ssim_.mean():.3f} ± {ssim_.std():.3f}"
    )

# %%
# Fold by fold
# ------------
# The folds differ more from each other than the mean suggests: some documents
# are simply dirtier. Comparing the cleaners *within* each fold is what matters.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
width = 0.8 / len(results)
folds = np.arange(cv.get_n_splits())
for k, (name, res) in enumerate(results.items()):
    ax.bar(folds + k * width, res["test_psnr"], width, label=name)
ax.set_xticks(folds + width * (len(results) - 1) / 2, [f"fold {i + 1}" for i in folds])
ax.set_ylabel("PSNR on the test documents (dB)")
fig.legend(fontsize="small", loc="outside upper center", ncols=2)

best = max(results, key=lambda name: results[name]["test_psnr"].mean())
print(f"best mean PSNR: {best}")

# %%
# Trained for a few seconds on 18 crops, the network learns to whiten the paper
# and keep the ink, but a well-chosen classical filter can still beat it on
# synthetic stains; the pretrained model, trained for minutes on hundreds of
# pages, shows what more training gives (see also the :doc:`/performance` page).
# To look at the pages, fit once on the first fold's training documents and
# clean its test documents.
train, test = next(cv.split(noisy, clean, groups))
model = DocumentDenoiser(
    epochs=40, lr=3e-3, batch_size=4, validation_fraction=0.0, random_state=0
).fit([noisy[i] for i in train], [clean[i] for i in train])
test_noisy = [noisy[i] for i in test]
fig = plot_before_after(
    test_noisy, model.transform(test_noisy), [clean[i] for i in test], max_images=3
)
