"""
=========================================
Clean scans before OCR in a Pipeline
=========================================

Put a fitted denoiser in front of Tesseract in a scikit-learn
:class:`~sklearn.pipeline.Pipeline`, read noisy scans, and measure what the
cleaning gains in character errors. The denoiser here is the pretrained model
shipped with docdenoise, wrapped in :class:`sklearn.frozen.FrozenEstimator` so
that fitting the pipeline never retrains it. The OCR step needs the ``ocr`` extra
and the ``tesseract`` program (see the installation page).
"""

# %%
# Scans with known text
# ---------------------
# ``return_text=True`` also returns the words printed on each synthetic page, so
# the OCR output can be checked against the truth.
import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from docdenoise import DocumentDenoiser
from docdenoise.datasets import make_dirty_documents
from docdenoise.metrics import cer
from docdenoise.ocr import TesseractOCR
from docdenoise.plotting import plot_before_after
from docdenoise.scorers import make_transform_scorer

noisy, clean, text = make_dirty_documents(6, shape=(160, 400), random_state=7, return_text=True)
print(f"{len(noisy)} scans of {noisy.shape[1:]}; page 1 says:\n{text[0]}")

# %%
# A frozen, already fitted denoiser
# ---------------------------------
# :meth:`DocumentDenoiser.pretrained` returns a fitted model (trained on
# synthetic pages only). ``FrozenEstimator`` makes ``fit`` a no-op and lets
# ``clone`` hand back the same object, so neither ``Pipeline.fit`` nor a grid
# search can retrain it. (Unfrozen, the pretrained model would be fine-tuned by
# every ``fit``: it comes with ``warm_start=True``.)
denoiser = DocumentDenoiser.pretrained()
weights_before = {k: v.clone() for k, v in denoiser.module_.state_dict().items()}

reader = Pipeline([("denoise", FrozenEstimator(denoiser)), ("ocr", TesseractOCR(psm=6))])
reader.fit(noisy, clean)  # passes y to both steps; both ignore it
unchanged = all(
    np.array_equal(weights_before[k], v) for k, v in denoiser.module_.state_dict().items()
)
print("weights unchanged by Pipeline.fit:", unchanged)

# %%
# Read the scans
# --------------
# ``transform`` runs the whole chain: noisy images in, one string per page out.
texts = reader.transform(noisy)
print("OCR of the cleaned page 1:\n" + texts[0])

# %%
# What cleaning gains
# -------------------
# The character error rate (CER, lower is better) of Tesseract on the noisy
# scans, on the cleaned scans and, as the best case, on the clean originals.
ocr = TesseractOCR(psm=6).fit(noisy)
rows = {
    "noisy scans": ocr.transform(noisy),
    "cleaned scans (pipeline)": texts,
    "clean originals": ocr.transform(clean),
}
for name, read in rows.items():
    print(f"{name:26s} CER {cer(text, read):.3f}")

# %%
# The pictures: noisy scan, cleaned scan and clean original.
fig = plot_before_after(noisy, denoiser.transform(noisy), clean, max_images=2)

# %%
# Tune the OCR step, keep the denoiser
# ------------------------------------
# Because the pipeline ends in text, it can be scored against the true text:
# ``make_transform_scorer(cer, greater_is_better=False)`` compares
# ``reader.transform(X)`` with ``y``. Here ``y`` is the text; ``Pipeline.fit``
# hands it to the frozen denoiser and the OCR step, which both ignore it. The
# search tries two of Tesseract's page segmentation modes; the denoiser is never
# refitted.
search = GridSearchCV(
    reader,
    {"ocr__psm": [4, 6]},
    cv=2,
    scoring=make_transform_scorer(cer, greater_is_better=False),
)
search.fit(noisy, np.asarray(text, dtype=object))
for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
    print(params, f"CER {-score:.3f}")
print("denoiser still the same object:", search.best_estimator_[0].estimator is denoiser)
