"""Read pages with the Tesseract OCR engine, and measure OCR errors on cleaned pages.

Needs the ``tesseract`` program (``apt-get install tesseract-ocr`` on Debian/Ubuntu,
``brew install tesseract`` on macOS) and the Python extra
``pip install docdenoise[ocr]`` (pytesseract and rapidfuzz).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
from joblib import Parallel, delayed
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin

from ._params import IMAGE_SHAPE, AnyOf, Integer, Nothing, Rule, Text, validate_params
from ._validation import check_images
from .exceptions import OCRNotAvailableError
from .metrics import cer, wer

__all__ = ["TesseractOCR", "cer", "ocr_cer", "wer"]

_INSTALL_HINT = (
    "Install the engine with `apt-get install tesseract-ocr` (Debian/Ubuntu) or "
    "`brew install tesseract` (macOS), and the Python binding with "
    "`pip install docdenoise[ocr]`."
)


def _pytesseract():
    try:
        import pytesseract
    except ImportError:
        raise OCRNotAvailableError(
            f"The Python package 'pytesseract' is not installed. {_INSTALL_HINT}"
        ) from None
    return pytesseract


@lru_cache(maxsize=8)
def _engine_info(cmd: str) -> tuple[str, frozenset[str]]:
    """Version and installed languages of the tesseract program ``cmd``."""
    pt = _pytesseract()
    try:
        version = str(pt.get_tesseract_version())
        languages = frozenset(pt.get_languages(config=""))
    except pt.TesseractNotFoundError:
        raise OCRNotAvailableError(
            f"The Tesseract OCR engine was not found (looked for {cmd!r}). {_INSTALL_HINT}"
        ) from None
    return version, languages


def _to_uint8(img: np.ndarray) -> np.ndarray:
    return np.round(img * np.float32(255.0)).astype(np.uint8)


class TesseractOCR(TransformerMixin, BaseEstimator):
    """Turn page images into text with Tesseract (via pytesseract).

    A stateless transformer: ``fit`` only checks the parameters and the engine, and
    ``transform`` works without it, so it can end a :class:`~sklearn.pipeline.Pipeline`
    after a denoiser.

    Parameters
    ----------
    lang : str, default="eng"
        Tesseract language code(s), joined with ``+`` (``"eng+deu"``). Each must be
        installed (``apt-get install tesseract-ocr-deu``).
    psm : int, default=6
        Page segmentation mode, 0..13. 6 ("a single uniform block of text") suits
        single-column pages and is less fooled by stains than 3 (automatic layout).
    config : str, default=""
        Extra command-line options for tesseract, e.g. ``"--oem 1"``.
    image_shape : tuple of (int, int), "rows" or None, default=None
        Shape of one image when ``X`` is a flattened ``(n, H * W)`` array (``"rows"``:
        each row is an image one pixel tall). ``None`` refuses a 2-D array: pass
        one page as ``[page]``.
    n_jobs : int, default=None
        Pages read in parallel (threads, each running a tesseract process).
        ``None`` means 1, ``-1`` all processors.

    Attributes
    ----------
    tesseract_version_ : str
        Version of the engine found by ``fit``.

    See Also
    --------
    ocr_cer : Character error rate of OCR on cleaned pages against clean targets.
    docdenoise.metrics.cer : Character error rate of texts.

    Examples
    --------
    >>> import numpy as np
    >>> from PIL import Image, ImageDraw, ImageFont
    >>> from docdenoise.ocr import TesseractOCR
    >>> page = Image.new("L", (420, 60), 255)
    >>> font = ImageFont.load_default(size=28)
    >>> ImageDraw.Draw(page).text((10, 12), "Clean pages read well", font=font, fill=0)
    >>> TesseractOCR().fit_transform([np.asarray(page)])  # doctest: +SKIP
    ['Clean pages read well']
    """

    def __init__(self, lang="eng", psm=6, config="", image_shape=None, n_jobs=None):
        self.lang = lang
        self.psm = psm
        self.config = config
        self.image_shape = image_shape
        self.n_jobs = n_jobs

    #: What each parameter accepts (see ``docdenoise/_params.py``).
    parameter_rules: ClassVar[dict[str, Rule]] = {
        "lang": Text(nonempty=True),
        "psm": Integer(0, 13),
        "config": Text(),
        "image_shape": IMAGE_SHAPE,
        "n_jobs": AnyOf(Nothing(), Integer()),
    }

    def _validate_params(self) -> tuple[str, frozenset[str]]:
        validate_params(self)
        pt = _pytesseract()
        version, languages = _engine_info(pt.pytesseract.tesseract_cmd)
        missing = [code for code in self.lang.split("+") if code not in languages]
        if missing:
            raise ValueError(
                f"Tesseract language(s) {missing} are not installed; installed: "
                f"{sorted(languages)}. On Debian/Ubuntu: apt-get install "
                f"tesseract-ocr-{missing[0]}."
            )
        return version, languages

    def fit(self, X=None, y=None):
        """Check the parameters and that the engine and languages are installed.

        Parameters
        ----------
        X : ignored
            Not used, present for API consistency.
        y : ignored
            Not used, present for API consistency.

        Returns
        -------
        self : TesseractOCR
            This transformer.
        """
        self.tesseract_version_, _ = self._validate_params()
        return self

    def _read(self, pt: Any, img: np.ndarray) -> str:
        from PIL import Image

        options = f"--psm {int(self.psm)} {self.config}".strip()
        text = pt.image_to_string(Image.fromarray(_to_uint8(img)), lang=self.lang, config=options)
        return text.strip()

    def transform(self, X: ArrayLike | Sequence[ArrayLike]) -> list[str]:
        """Read the text of each image.

        Parameters
        ----------
        X : list of 2-D arrays, ndarray of shape (n, H, W) or (n, H * W)
            Page images (dark text on light paper), in any form the denoiser takes.

        Returns
        -------
        texts : list of str
            One text per image, leading and trailing whitespace removed.

        Raises
        ------
        OCRNotAvailableError
            pytesseract or the tesseract program is missing.
        """
        self._validate_params()
        images = check_images(X, image_shape=self.image_shape, name="X").images
        pt = _pytesseract()
        if self.n_jobs in (None, 1) or len(images) == 1:
            return [self._read(pt, img) for img in images]
        return list(
            Parallel(n_jobs=self.n_jobs, prefer="threads")(
                delayed(self._read)(pt, img) for img in images
            )
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = True
        return tags


# A bounded cache of texts read from clean targets, which are read again and again
# when the same targets score many candidates in a grid search.
_TARGET_CACHE: OrderedDict[tuple, str] = OrderedDict()
_TARGET_CACHE_SIZE = 1024


def _read_cached(ocr: TesseractOCR, images: list[np.ndarray]) -> list[str]:
    params = (ocr.lang, int(ocr.psm), ocr.config)
    keys = [
        (
            hashlib.blake2b(_to_uint8(img).tobytes(), digest_size=16).hexdigest(),
            img.shape,
            params,
        )
        for img in images
    ]
    todo = [i for i, k in enumerate(keys) if k not in _TARGET_CACHE]
    if todo:
        texts = ocr.transform([images[i] for i in todo])
        for i, text in zip(todo, texts):
            _TARGET_CACHE[keys[i]] = text
            while len(_TARGET_CACHE) > _TARGET_CACHE_SIZE:
                _TARGET_CACHE.popitem(last=False)
    out = []
    for k in keys:
        _TARGET_CACHE.move_to_end(k)
        out.append(_TARGET_CACHE[k])
    return out


def ocr_cer(y_true, y_pred, *, ocr=None, image_shape=None):
    """Character error rate of OCR on ``y_pred`` against OCR on the clean ``y_true``.

    No text labels are needed: Tesseract's reading of each clean target is taken
    as the reference (and cached, since grid searches read the same targets many
    times). Errors are pooled over all pages as in :func:`~docdenoise.metrics.cer`.

    Parameters
    ----------
    y_true : list of 2-D arrays, ndarray of shape (n, H, W) or (n, H * W)
        Clean target pages.
    y_pred : same form as y_true
        Cleaned pages.
    ocr : TesseractOCR, default=None
        The reader; ``None`` means ``TesseractOCR()``.
    image_shape : tuple of (int, int), "rows" or None, default=None
        Shape of one image for flattened ``(n, H * W)`` inputs (see
        :class:`TesseractOCR`); ``None`` refuses 2-D arrays.

    Returns
    -------
    cer : float
        0 when the cleaned pages read exactly like the clean ones.

    See Also
    --------
    docdenoise.scorers.neg_ocr_cer_scorer : The scorer built on this function.

    Examples
    --------
    >>> import numpy as np
    >>> from PIL import Image, ImageDraw, ImageFont
    >>> from docdenoise.ocr import ocr_cer
    >>> page = Image.new("L", (420, 60), 255)
    >>> font = ImageFont.load_default(size=28)
    >>> ImageDraw.Draw(page).text((10, 12), "Clean pages read well", font=font, fill=0)
    >>> clean = [np.asarray(page) / 255.0]
    >>> ocr_cer(clean, [np.ones_like(clean[0])])  # doctest: +SKIP
    1.0
    """
    ocr = TesseractOCR(image_shape=image_shape) if ocr is None else ocr
    true = check_images(y_true, image_shape=image_shape, name="y_true").images
    pred = check_images(y_pred, image_shape=image_shape, name="y_pred").images
    if len(true) != len(pred):
        raise ValueError(
            f"y_true and y_pred must hold the same number of images: got {len(true)} "
            f"and {len(pred)}."
        )
    return cer(_read_cached(ocr, true), ocr.transform(pred))
