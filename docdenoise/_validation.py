"""One place that turns user input into checked float32 images.

Accepted forms (see :class:`~docdenoise.DocumentDenoiser`):

``list`` / ``tuple`` of 2-D arrays (or a 1-D object array of them)
    Images of any sizes. Output keeps the form: a list.
3-D array ``(n_images, H, W)``
    Images of one size. Output: a 3-D array.
2-D array ``(n_images, H * W)``
    Flattened images (the scikit-learn form), only when asked for:
    ``image_shape=(H, W)`` says how to unflatten a row, ``image_shape="rows"``
    makes each row an image one pixel tall. Without ``image_shape`` a 2-D array
    (or a nested list of numbers) is refused: it is how one page is usually held,
    and reading it as ``H`` images one pixel tall would clean it wrongly without a
    word. The message says to pass ``[page]``.

Pixel values:

* ``uint8`` (and other integer types holding 0..255) are divided by 255;
* ``uint16`` is divided by 65535;
* ``bool`` maps False/True to 0/1;
* other integer types (``int16``, ``int32``, ...) must hold 0..255 and are divided
  by 255 (``out_of_range="clip"`` clips other values instead);
* floats (``float16``/``float32``/``float64``) must already lie in ``[0, 1]``
  (``out_of_range="clip"`` clips instead);
* NaN and infinity are always refused;
* everything comes back as ``float32``.

Sizes: any ``H, W >= 1`` is accepted, including 1 x 1, 1 x N and N x 1 images
smaller than the network's ``size_multiple`` (inference pads by edge replication
and crops back). There is no upper limit for arrays (image *files* have one, see
:func:`docdenoise.datasets.load_images`).

Refused with :class:`~docdenoise.exceptions.InvalidImageError` (the message says
what was expected and what was got):

* ``None``, strings, dicts, an empty list, zero images, images with no pixels;
* 0-D and 1-D arrays, and arrays with 4 or more dimensions (the message suggests
  dropping a channel axis of length 1);
* a 2-D array without ``image_shape`` (see above);
* colour: a list item of shape ``(H, W, 3)`` or ``(H, W, 4)``, and a 3-D array
  whose last axis has length 3 or 4 while the other two are both longer than 4
  (it is almost surely one colour image, not a stack of more than four images 3 or 4
  pixels wide; pass such narrow images as a list). Likewise a 3-D array
  ``(H, W, 1)`` with ``H`` and ``W`` above 4 is one page with a channel axis, not
  ``H`` images one pixel wide. There is
  no silent colour conversion for arrays; :func:`~docdenoise.datasets.load_images`
  converts colour *files* by a documented rule;
* ragged nested lists, complex numbers and other non-numeric dtypes (datetimes,
  strings);
* noisy/clean pairs of different counts or shapes (:func:`check_pairs`).

Float values are checked in their own dtype before the cast to float32, so a
float64 ``1e300`` is reported as out of range, not as the infinity it would become.
Values out of range are reported with the smallest and largest value, each with
as many digits as its dtype needs (``1.0000000000000002``, not ``1``), and how
many values are outside.

Sparse matrices and object arrays holding non-numbers raise ``TypeError``
(scikit-learn's convention). ``tests/test_bad_input.py`` and ``tests/test_fuzz.py``
pin these rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array

from .exceptions import InvalidImageError

__all__ = [
    "ImageBatch",
    "check_images",
    "check_pairs",
    "restore_form",
    "to_float_image",
]

Form = Literal["list", "array3d", "array2d"]


@dataclass(frozen=True)
class ImageBatch:
    """Checked images plus what is needed to give results back in the input's form."""

    images: list[np.ndarray]
    form: Form
    image_shape: tuple[int, int] | None = None

    def __len__(self) -> int:
        return len(self.images)


def _out_of_range(arr: np.ndarray, lo: float, hi: float) -> str:
    """``values in [min, max] (k of n values outside [lo, hi])``.

    ``str`` of a numpy scalar has as many digits as its dtype needs to tell it from
    its neighbours, so one ulp above 1 shows as ``1.0000000000000002``, never ``1``.
    """
    n_bad = int(np.count_nonzero((arr < lo) | (arr > hi)))
    return (
        f"values in [{arr.min()!s}, {arr.max()!s}] ({n_bad} of {arr.size} "
        f"values outside [{lo:g}, {hi:g}])"
    )


def _describe(obj: Any) -> str:
    if isinstance(obj, np.ndarray):
        return f"array of shape {obj.shape} and dtype {obj.dtype}"
    return f"{type(obj).__name__}"


def to_float_image(
    arr: np.ndarray, *, name: str = "image", out_of_range: str = "raise"
) -> np.ndarray:
    """Scale one numeric array to float32 in ``[0, 1]`` by the documented dtype rule.

    Parameters
    ----------
    arr : ndarray
        Numeric array of any shape.
    name : str, default="image"
        How to call the array in error messages.
    out_of_range : {"raise", "clip"}, default="raise"
        What to do with values outside the valid range of their dtype.

    Returns
    -------
    out : ndarray of float32
        Values in ``[0, 1]``.
    """
    dtype = arr.dtype
    if dtype == np.bool_:
        return arr.astype(np.float32)
    if dtype.kind in "iu":
        if dtype == np.uint8:
            return arr.astype(np.float32) / np.float32(255.0)
        if dtype == np.uint16:
            return arr.astype(np.float32) / np.float32(65535.0)
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            if out_of_range != "clip":
                raise InvalidImageError(
                    f"{name} has integer dtype {dtype} with {_out_of_range(arr, 0, 255)}; "
                    "integer images other than uint8/uint16 must hold 8-bit grey levels "
                    "0..255 (or pass out_of_range='clip')."
                )
            arr = np.clip(arr, 0, 255)
        return arr.astype(np.float32) / np.float32(255.0)
    if dtype.kind == "f":
        # Check before casting: 1e300 in float64 must be reported as out of range,
        # not as the infinity it would become in float32.
        if arr.size and not np.isfinite(arr).all():
            raise InvalidImageError(
                f"{name} contains NaN or infinity; images must hold finite values."
            )
        if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
            if out_of_range != "clip":
                raise InvalidImageError(
                    f"{name} has float {_out_of_range(arr, 0.0, 1.0)}; float images must "
                    "lie in [0, 1] (divide 8-bit data by 255, or pass out_of_range='clip')."
                )
            arr = np.clip(arr, 0.0, 1.0)
        return arr.astype(np.float32, copy=False)
    raise InvalidImageError(
        f"{name} has dtype {dtype}; expected a numeric array (uint8, uint16, bool, "
        "integer 0..255 or float in [0, 1])."
    )


def _as_numeric_array(obj: Any, name: str) -> np.ndarray:
    if obj is None or isinstance(obj, (str, bytes)):
        raise InvalidImageError(f"{name} must be an image array, got {_describe(obj)}.")
    try:
        arr = np.asarray(obj)
    except (ValueError, TypeError) as exc:  # ragged nesting
        raise InvalidImageError(
            f"{name} could not be read as an array ({exc}); expected a 2-D image."
        ) from None
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (ValueError, TypeError) as exc:
            raise TypeError(
                f"{name} is an object array that is not numeric ({exc}); expected a 2-D "
                "image of numbers."
            ) from None
    if arr.dtype.kind == "c":
        raise InvalidImageError(
            f"{name} has dtype {arr.dtype}: Complex data not supported; images hold "
            "real grey levels."
        )
    if arr.dtype.kind not in "biuf":
        raise InvalidImageError(f"{name} has dtype {arr.dtype}; expected numbers.")
    return arr


_COLOUR_HINT = (
    "Colour images (H, W, 3) or (H, W, 4) must be converted to grayscale first: "
    "load_images does it for files; for arrays use e.g. skimage.color.rgb2gray."
)


def _check_2d(img: np.ndarray, name: str) -> None:
    if img.ndim != 2:
        hint = ""
        if img.ndim == 3 and img.shape[-1] in (3, 4):
            hint = " " + _COLOUR_HINT
        elif img.ndim == 3 and 1 in (img.shape[0], img.shape[-1]):
            hint = " Drop the channel axis first (img[..., 0] or img[0])."
        raise InvalidImageError(
            f"{name} must be a 2-D grayscale image (H, W), got shape {img.shape}.{hint}"
        )
    if img.shape[0] < 1 or img.shape[1] < 1:
        raise InvalidImageError(f"{name} is empty: shape {img.shape}; images need H, W >= 1.")


def check_images(
    X: Any,
    *,
    image_shape: tuple[int, int] | str | None = None,
    name: str = "X",
    out_of_range: str = "raise",
) -> ImageBatch:
    """Validate images in any accepted form and convert them to float32 in [0, 1].

    Parameters
    ----------
    X : list of 2-D array-like, ndarray of shape (n, H, W) or (n, H * W)
        The images.
    image_shape : tuple of (int, int), "rows" or None, default=None
        Shape of one image when ``X`` is 2-D; ``"rows"`` means ``(1, n_features)``;
        ``None`` refuses a 2-D ``X`` (it is probably one page).
    name : str, default="X"
        Name used in error messages.
    out_of_range : {"raise", "clip"}, default="raise"
        Refuse or clip values outside the dtype's valid range.

    Returns
    -------
    batch : ImageBatch
        Float32 images and the input form.
    """
    if sp.issparse(X):
        raise TypeError(
            f"Sparse input is not supported: {name} must hold dense images (got "
            f"{type(X).__name__}); convert with .toarray()."
        )
    if X is None or isinstance(X, (str, bytes, dict)):
        raise InvalidImageError(
            f"{name} must be a list of 2-D images or an array of shape (n, H, W) or "
            f"(n, H*W), got {_describe(X)}."
        )
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1:
        X = list(X)  # e.g. np.array(images_of_several_sizes, dtype=object)
    if isinstance(X, (list, tuple)):
        if len(X) == 0:
            raise InvalidImageError(f"{name} is empty: at least one image is required.")
        items = [_as_numeric_array(item, f"{name}[{i}]") for i, item in enumerate(X)]
        if any(item.ndim >= 2 for item in items):
            images = []
            for i, arr in enumerate(items):
                _check_2d(arr, f"{name}[{i}]")
                images.append(to_float_image(arr, name=f"{name}[{i}]", out_of_range=out_of_range))
            return ImageBatch(images, "list")
        # A nested list of rows: treat as the 2-D (n, n_features) form below.
        lengths = {item.shape for item in items}
        if len(lengths) > 1:
            raise InvalidImageError(
                f"{name} is a list of rows of different lengths ({name}[0] has shape "
                f"{items[0].shape}, other rows {min(lengths - {items[0].shape})}); "
                "rows of the flattened form must all have H * W values."
            )
    if isinstance(X, np.ndarray) and X.dtype.kind == "c":
        raise InvalidImageError(
            f"{name} has dtype {X.dtype}: Complex data not supported; images hold real grey levels."
        )
    try:
        arr = check_array(X, dtype=None, allow_nd=True, ensure_all_finite=True, input_name=name)
    except ValueError as exc:
        raise InvalidImageError(str(exc)) from None
    if arr.dtype == object:
        arr = _as_numeric_array(arr, name)
    if arr.ndim == 3:
        if arr.shape[1] < 1 or arr.shape[2] < 1:
            raise InvalidImageError(f"{name} holds empty images: shape {arr.shape}.")
        if arr.shape[2] in (1, 3, 4) and arr.shape[0] > 4 and arr.shape[1] > 4:
            what, fix = "one colour image", _COLOUR_HINT
            if arr.shape[2] == 1:
                what = "one grayscale page with a channel axis"
                fix = "Drop the channel axis and pass the page in a list: [page[..., 0]]."
            raise InvalidImageError(
                f"{name} has shape {arr.shape}, which looks like {what} "
                f"(H, W, {arr.shape[2]}) rather than {arr.shape[0]} grayscale images "
                f"{arr.shape[2]} pixel{'s' * (arr.shape[2] > 1)} wide. {fix} Images that "
                f"really are {arr.shape[2]} pixel{'s' * (arr.shape[2] > 1)} wide can be "
                "passed as a list of 2-D arrays."
            )
        data = to_float_image(arr, name=name, out_of_range=out_of_range)
        return ImageBatch(list(data), "array3d")
    if arr.ndim == 2:
        n, n_features = arr.shape
        if image_shape is None:
            raise InvalidImageError(
                f"{name} is a 2-D array of shape {arr.shape}: one page, or {n} flattened "
                "images? For one page, pass it in a list: [page] (the result is a list "
                "too). For the flattened scikit-learn form (n_images, H * W), set "
                "image_shape=(H, W), or image_shape='rows' for images one pixel tall."
            )
        if isinstance(image_shape, str):  # "rows"
            shape = (1, n_features)
        else:
            shape = (int(image_shape[0]), int(image_shape[1]))
            if shape[0] * shape[1] != n_features:
                raise InvalidImageError(
                    f"{name} has {n_features} features per row but image_shape={shape} "
                    f"needs {shape[0] * shape[1]}."
                )
        data = to_float_image(arr, name=name, out_of_range=out_of_range)
        return ImageBatch(list(data.reshape(n, *shape)), "array2d", shape)
    hint = ""
    if arr.ndim == 4 and 1 in (arr.shape[1], arr.shape[3]):
        hint = " Drop the channel axis first (X[:, 0] or X[..., 0])."
    raise InvalidImageError(
        f"{name} must be a list of 2-D images, a 3-D array (n, H, W) or a 2-D array "
        f"(n, H*W); got an array with {arr.ndim} dimensions, shape {arr.shape}.{hint}"
    )


def check_pairs(X: ImageBatch, Y: ImageBatch) -> None:
    """Check that noisy and clean images pair up one to one with equal shapes.

    Parameters
    ----------
    X, Y : ImageBatch
        Noisy and clean images.
    """
    if len(X) != len(Y):
        raise InvalidImageError(
            f"X and y must hold the same number of images: got {len(X)} noisy and {len(Y)} clean."
        )
    for i, (x, y) in enumerate(zip(X.images, Y.images)):
        if x.shape != y.shape:
            raise InvalidImageError(
                f"Image {i}: noisy shape {x.shape} differs from clean shape {y.shape}; "
                "each clean target must have the size of its noisy input."
            )


def restore_form(images: list[np.ndarray], like: ImageBatch) -> Any:
    """Return ``images`` in the container form that ``like`` came in.

    Parameters
    ----------
    images : list of ndarray
        Results, one per input image, each with its input's shape.
    like : ImageBatch
        The checked input.

    Returns
    -------
    out : list of ndarray or ndarray
        A list, a 3-D array or a 2-D array, as the input was.
    """
    if like.form == "list":
        return images
    stacked = np.stack(images).astype(np.float32, copy=False)
    if like.form == "array2d":
        return stacked.reshape(len(images), -1)
    return stacked
