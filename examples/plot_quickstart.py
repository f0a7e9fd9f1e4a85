"""
==========================================
Quickstart: train a denoiser, clean pages
==========================================

Train a :class:`~docdenoise.DocumentDenoiser` on synthetic dirty pages, clean pages
it has never seen, and compare them with the clean originals, in pictures and in
numbers. The model trains for a few seconds on the CPU: enough to see it work, far
from the quality of a fully trained model.
"""

# %%
# Synthetic pages
# ---------------
# :func:`~docdenoise.datasets.make_dirty_documents` renders pages of text and a
# dirty copy of each: stains, creases, shadows, textured paper, scanner noise.
# Both come as ``float32`` arrays of shape ``(n_pages, height, width)`` with
# values in ``[0, 1]`` (0 is black). We keep the last pages aside for testing.
from docdenoise import DocumentDenoiser
from docdenoise.datasets import make_dirty_documents
from docdenoise.metrics import psnr, rmse
from docdenoise.plotting import plot_before_after, plot_history

noisy, clean = make_dirty_documents(40, shape=(128, 256), random_state=0)
X_train, y_train = noisy[:32], clean[:32]
X_test, y_test = noisy[32:], clean[32:]
print(f"{len(X_train)} training pages, {len(X_test)} test pages")
print("page shape:", X_test.shape[1:], X_test.dtype)

# %%
# Train
# -----
# The default network is the reference convolutional autoencoder of the Kaggle
# *Denoising Dirty Documents* competition (``model="cae"``, 9,569 weights). With
# this little data it learns fastest from random 64 x 64 crops of the pages
# (``patch_size``; 8 crops per page and epoch) and a larger learning rate than
# the default. 10 % of the training pages are held out to follow the validation
# loss.
denoiser = DocumentDenoiser(
    epochs=10,
    batch_size=8,
    lr=3e-3,
    patch_size=64,
    patches_per_image=8,
    random_state=0,
)
denoiser = denoiser.fit(X_train, y_train)

# %%
# Clean unseen pages
# ------------------
# ``transform`` returns the cleaned pages in the same form and shape as its input.
# The titles give each page's root-mean-square error against its clean original.
cleaned = denoiser.transform(X_test)
fig = plot_before_after(X_test, cleaned, y_test, max_images=3)

# %%
# In numbers
# ----------
# ``score`` is minus the RMSE over all test pixels (higher is better). PSNR is in
# decibels, higher is better.
rmse_before = rmse(y_test, X_test)
rmse_after = -denoiser.score(X_test, y_test)
print(f"RMSE  noisy {rmse_before:.4f}  ->  cleaned {rmse_after:.4f}")
psnr_before, psnr_after = psnr(y_test, X_test), psnr(y_test, cleaned)
print(f"PSNR  noisy {psnr_before:.2f} dB  ->  cleaned {psnr_after:.2f} dB")

# %%
# The training curve
# ------------------
# ``history_`` holds the training and validation loss (mean squared error) of each
# epoch. If both still fall at the end, more epochs and more pages would help.
fig_history = plot_history(denoiser)

# %%
# Compare with the pretrained model
# ---------------------------------
# docdenoise ships a model trained much longer on many more synthetic pages
# (see :doc:`/model_card`). It needs no training at all; on these test pages it
# should do better than the model trained above in a few seconds.
pretrained = DocumentDenoiser.pretrained()
rmse_pretrained = -pretrained.score(X_test, y_test)
print(f"RMSE  pretrained model {rmse_pretrained:.4f}")
cleaned_pretrained = pretrained.transform(X_test)
fig_pretrained = plot_before_after(X_test, cleaned_pretrained, y_test, max_images=3)

# %%
# Save and load
# -------------
# A model file holds the weights and JSON metadata, never code, so it is safe to
# share (see :doc:`/persistence`).
import tempfile
from pathlib import Path

import numpy as np

path = Path(tempfile.mkdtemp()) / "denoiser.safetensors"
denoiser.save(path)
same = DocumentDenoiser.load(path)
print(path.name, f"{path.stat().st_size / 1024:.0f} KiB")
print("same output:", np.allclose(same.transform(X_test), cleaned, atol=1e-6))
