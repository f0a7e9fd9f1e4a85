"""The DocumentDenoiser estimator: parameters, fit/transform/score, save/load.

This module imports no torch: training, the torch engine and ``.safetensors``
model files import it when they are used (:func:`~docdenoise._devices.require_torch`
says how to install it when it is missing), so an ONNX model cleans pages where
torch is not installed.
"""

from __future__ import annotations

import copy
import numbers
import os
import warnings
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _serialization
from ._atomic import atomic_write_bytes
from ._callbacks import Checkpoint, progress_callbacks
from ._devices import (
    available_devices,
    onnxruntime_version,
    require_torch,
    resolve_device,
    torch_installed,
)
from ._failsafe import interruptible, rollback_on_error
from ._geometry import round_up
from ._inference import Network, check_tta, iter_predict, predict_images
from ._onnx_engine import OnnxNetwork, read_onnx_file
from ._params import (
    AUGMENT,
    ENGINE,
    IMAGE_SHAPE,
    LR_SCHEDULES,
    N_THREADS,
    TILE_SIZE,
    TTA,
    AnyOf,
    Bool,
    FilePath,
    Integer,
    NameOrSubclass,
    Nothing,
    Options,
    Real,
    Rule,
    validate_params,
)
from ._threads import (
    GLOBAL_RNG_LOCK,
    seeded_global_rng,
    torch_threads,
    with_torch_threads,
)
from ._validation import ImageBatch, check_images, check_pairs, restore_form
from ._version import __version__
from .exceptions import (
    DeviceError,
    DeviceWarning,
    InvalidImageError,
    ModelFileError,
    NotFittedError,
)
from .models import available_models, get_model_class, network_contract
from .models._pretrained import WEIGHTS_DIR, pretrained_models

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ._training import PatchSampler

__all__ = ["DocumentDenoiser", "pretrained_models"]

#: Prefixes of nested parameters routed to the network, optimizer and loss.
NESTED_PREFIXES = ("module__", "optimizer__", "loss__")

#: The names of ``optimizer`` and ``loss``: classes of ``torch.optim`` and ``torch.nn``
#: (looked up there when training starts, so that this module imports no torch).
_OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop"}
_LOSSES = {"mse": "MSELoss", "l1": "L1Loss", "smooth_l1": "SmoothL1Loss", "huber": "HuberLoss"}


def _resolve(value: str | type, table: dict[str, str], home: str) -> type:
    """The class for a checked ``optimizer`` or ``loss`` value (a name or a class)."""
    if not isinstance(value, str):
        return value
    torch = require_torch("Training")
    return getattr(torch.optim if home == "optim" else torch.nn, table[value])


class DocumentDenoiser(TransformerMixin, BaseEstimator):
    """Learn to clean scanned document images from noisy/clean pairs.

    A scikit-learn transformer around a PyTorch network. ``fit(X, y)`` trains the
    network to map noisy pages ``X`` to clean pages ``y``; ``transform(X)`` returns
    cleaned pages with exactly the input shapes; ``score(X, y)`` is the negative
    root-mean-square error over all pixels (Kaggle's metric, higher is better).
    The defaults reproduce the reference recipe of the Kaggle "Denoising Dirty
    Documents" autoencoder: 64 epochs, batch 16, Adam with ``lr=1e-3``, MSE loss.

    Parameters
    ----------
    model : str or type of torch.nn.Module, default="cae"
        The network: a name from :func:`docdenoise.models.available_models` or an
        ``nn.Module`` subclass taking ``[N, 1, H, W]`` in ``[0, 1]``. Constructor
        arguments are given as ``module__<name>`` parameters.
    epochs : int, default=64
        Passes over the training images.
    batch_size : int, default=16
        Images per optimizer step (and per forward pass in ``transform``).
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or type, default="adam"
        Optimizer; extra arguments as ``optimizer__<name>`` (e.g.
        ``optimizer__weight_decay=1e-4``).
    loss : {"mse", "l1", "smooth_l1", "huber"} or type, default="mse"
        Training loss; extra arguments as ``loss__<name>``.
    validation_fraction : float, default=0.1
        Fraction of the training images held out to compute ``valid_loss`` each
        epoch. Pass ``groups`` to :meth:`fit` to keep related pages on one side.
        Ignored (no validation) with fewer than two images; ``0`` disables it.
    patch_size : int, default=None
        Train on random square crops of this many pixels (rounded up to the
        network's size multiple) instead of whole pages, so pages of any size batch
        together and a few pages give thousands of samples. ``None`` trains on
        whole pages (the reference recipe).
    patches_per_image : int, default=16
        With ``patch_size``: crops drawn from every training page per epoch.
    augment : bool or "flips", default=False
        ``True``: random flips and 90-degree rotations of each batch (the output is
        turned back, so noisy and clean stay aligned) and a random brightness gain
        of the noisy input (0.9 to 1.05). ``"flips"``: the flips and rotations
        only, for training pairs whose exposure matches the pages to clean (it
        did better when fine-tuning on one collection: see the model card).
    lr_schedule : {None, "cosine", "onecycle", "plateau"}, default=None
        ``"cosine"`` decays the rate to 0 per step, ``"onecycle"`` warms up over
        the first 30 % and then decays it (both over ``epochs``, or over
        ``max_time`` if that ends first); ``"plateau"`` halves it after 3 epochs
        without improvement of the validation (else training) loss. ``None`` keeps
        it constant. The rate of each epoch is in ``history_``.
    early_stopping : bool, default=False
        Stop when the validation loss (the training loss without validation
        data) has not improved for ``n_iter_no_change`` epochs, and restore the
        weights of the best epoch.
    n_iter_no_change : int, default=10
        Epochs without improvement before early stopping.
    tol : float, default=0.0
        Relative improvement that counts: an epoch improves when its loss is below
        ``best * (1 - tol)``.
    max_time : float, default=None
        Stop training after this many seconds (checked after every step). With
        ``early_stopping``, the best weights are still restored.
    warm_start : bool, default=False
        If True and the estimator is fitted, ``fit`` continues training the existing
        network (and optimizer) for ``epochs`` more epochs instead of starting anew.
    checkpoint : str or path-like, default=None
        Model file that ``fit`` (re)writes after every epoch and when it returns,
        atomically and in the format of :meth:`save`; do not share one path between
        fits that run in parallel (e.g. in ``GridSearchCV``). To resume after a crash:
        ``DocumentDenoiser.load(path).set_params(warm_start=True).fit(X, y)``
        (the optimizer state, e.g. Adam's moments, starts anew).
    image_shape : tuple of (int, int), "rows" or None, default=None
        How to read a 2-D array: the flattened form ``(n_images, H * W)`` with
        ``(H, W)`` the shape of one image, or ``"rows"`` for images one pixel tall.
        ``None`` refuses a 2-D array with a message: it is how one page is usually
        held, so pass one page in a list, ``[page]``. (scikit-learn reads a 2-D
        ``X`` as ``(n_samples, n_features)``; cleaning a page as ``H`` separate
        rows would silently ruin it, so that reading is only used when asked for.)
    out_of_range : {"raise", "clip"}, default="raise"
        What to do with pixel values outside the valid range (float outside
        ``[0, 1]``, integers outside ``0..255``): raise an error or clip.
    device : str, default="auto"
        ``"auto"`` (cuda, then mps, then cpu), ``"cpu"``, ``"cuda"``, ``"cuda:N"``
        or ``"mps"``.
    tile_size : int, "auto" or None, default="auto"
        Pages larger than a tile are cleaned in overlapping tiles whose margin
        covers the network's receptive field, so the result equals whole-page
        inference (to float rounding) while memory stays bounded whatever the page
        size. ``"auto"`` uses 512-pixel tiles (more for networks with a large
        receptive field), an int sets the tile side, ``None`` never tiles.
    tta : bool or {1, 2, 4, 8, 16, 32}, default=False
        Test-time augmentation in ``transform`` and ``score``: average the
        network's outputs over that many flips/rotations of each page (``True``:
        all 8), mapped back; 16 and 32 run the 8 flips/rotations on the page as
        it is and moved by one pixel (down and right: 16; down, right and both:
        32). ``tta`` times slower; it helps networks trained with ``augment``
        (the pretrained model: see the model card), not the reference recipe.
    engine : {"auto", "torch", "onnx"}, default="auto"
        What runs the network in ``transform``, ``iter_transform`` and ``score``:
        ``"torch"`` the torch module (``module_``, on ``device_``); ``"onnx"``
        the network exported to ONNX, run by onnxruntime on the CPU (exported on
        first use if the estimator has no ONNX graph yet, which needs the
        ``export`` extra); ``"auto"`` the onnx engine when the estimator already
        has an ONNX graph (``onnx_model_``: a model loaded from an ``.onnx`` file,
        the shipped pretrained model, or after :meth:`export_onnx`) and works on
        the CPU, else torch. Both give the same results to float rounding (1e-4):
        tiling, padding and ``tta`` run the same code. Without torch installed,
        only the onnx engine runs.
    n_threads : int, default=None
        CPU threads torch (or onnxruntime) may use during ``fit``, ``transform`` and ``score``
        (restored afterwards). ``None`` keeps torch's setting, which is already one
        share of the cores in joblib workers (``GridSearchCV(n_jobs=k)``) and in
        dask worker processes; set ``1`` when several estimators work in threads of
        one process (e.g. a ``dask.distributed`` cluster with ``processes=False``).
        On a machine shared with other work, torch's threads wait passively
        because ``import docdenoise`` sets ``OMP_WAIT_POLICY=PASSIVE`` before torch
        loads (see "On a busy machine" in the performance guide).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, the validation split and shuffling. With an
        int, results are reproducible on the CPU.
    verbose : int, default=0
        ``1`` prints one line per epoch; ``2`` or more shows progress bars (tqdm)
        over epochs, with the latest losses, and over the batches of each epoch.
    **kwargs
        Nested parameters ``module__*``, ``optimizer__*`` and ``loss__*``.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network, on ``device_``. Absent when the estimator was loaded
        from an ``.onnx`` file. The shipped model (:meth:`pretrained` on the CPU)
        loads it, and ``device_``, when first looked up (which needs torch).
    onnx_model_ : OnnxNetwork
        The network exported to ONNX, with its metadata (``onnx_model_.meta``), when
        the estimator has one: loaded from an ``.onnx`` file, shipped with the
        pretrained model, or exported by :meth:`export_onnx` or the onnx engine.
        ``fit`` drops it.
    optimizer_ : torch.optim.Optimizer or None
        The optimizer (``None`` after unpickling or loading; recreated on demand).
    device_ : torch.device
        The device the network lives on.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``valid_loss`` (NaN without
        validation), ``lr`` (learning rate at the end of the epoch) and ``dur``
        (seconds).
    n_features_in_ : int
        Pixels per image; only set when fitted on the flattened 2-D form.
    feature_names_in_ : ndarray of str
        Only set when fitted on a DataFrame with string column names.

    See Also
    --------
    docdenoise.datasets.make_dirty_documents : Synthetic noisy/clean page pairs.

    Examples
    --------
    >>> from docdenoise import DocumentDenoiser
    >>> from docdenoise.datasets import make_dirty_documents
    >>> noisy, clean = make_dirty_documents(8, shape=(32, 48), random_state=0)
    >>> den = DocumentDenoiser(epochs=2, random_state=0).fit(noisy, clean)
    >>> den.transform(noisy[:2]).shape
    (2, 32, 48)
    >>> den.score(noisy, clean) < 0
    True
    """

    #: What each parameter accepts, checked by ``fit`` (scikit-learn's
    #: ``_parameter_constraints``, in a form of our own: see ``docdenoise/_params.py``).
    #: The command line builds its options, choices and messages from it.
    #: ``device`` and ``random_state`` are checked where they are used
    #: (:func:`~docdenoise.resolve_device`, ``check_random_state``).
    parameter_rules: ClassVar[dict[str, Rule]] = {
        "model": NameOrSubclass(available_models, "torch.nn.Module"),
        "epochs": Integer(1),
        "batch_size": Integer(1),
        "lr": Real(gt=0),
        "optimizer": NameOrSubclass(tuple(_OPTIMIZERS), "torch.optim.Optimizer"),
        "loss": NameOrSubclass(tuple(_LOSSES), "torch.nn.Module"),
        "validation_fraction": Real(ge=0, lt=1),
        "patch_size": AnyOf(Nothing(), Integer(1)),
        "patches_per_image": Integer(1),
        "augment": AUGMENT,
        "lr_schedule": AnyOf(Nothing(), Options(*LR_SCHEDULES)),
        "early_stopping": Bool(),
        "n_iter_no_change": Integer(1),
        "tol": Real(ge=0, lt=1),
        "max_time": AnyOf(Nothing(), Real(gt=0, unit="seconds")),
        "warm_start": Bool(),
        "checkpoint": AnyOf(Nothing(), FilePath()),
        "image_shape": IMAGE_SHAPE,
        "out_of_range": Options("raise", "clip"),
        "tile_size": TILE_SIZE,
        "tta": TTA,
        "engine": ENGINE,
        "n_threads": N_THREADS,
        "verbose": Integer(0),
    }

    # Fitted attributes (set by fit/load; declared here for type checkers only).
    module_: nn.Module
    optimizer_: torch.optim.Optimizer | None
    device_: torch.device
    history_: list[dict[str, Any]]

    def __init__(
        self,
        model: str | type[nn.Module] = "cae",
        *,
        epochs: int = 64,
        batch_size: int = 16,
        lr: float = 1e-3,
        optimizer: str | type[torch.optim.Optimizer] = "adam",
        loss: str | type[nn.Module] = "mse",
        validation_fraction: float = 0.1,
        patch_size: int | None = None,
        patches_per_image: int = 16,
        augment: bool | str = False,
        lr_schedule: str | None = None,
        early_stopping: bool = False,
        n_iter_no_change: int = 10,
        tol: float = 0.0,
        max_time: float | None = None,
        warm_start: bool = False,
        checkpoint: str | os.PathLike | None = None,
        image_shape: tuple[int, int] | str | None = None,
        out_of_range: str = "raise",
        device: str = "auto",
        tile_size: int | str | None = "auto",
        tta: bool | int = False,
        engine: str = "auto",
        n_threads: int | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        **kwargs: Any,
    ) -> None:
        self.model = model
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.loss = loss
        self.validation_fraction = validation_fraction
        self.patch_size = patch_size
        self.patches_per_image = patches_per_image
        self.augment = augment
        self.lr_schedule = lr_schedule
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.max_time = max_time
        self.warm_start = warm_start
        self.checkpoint = checkpoint
        self.image_shape = image_shape
        self.out_of_range = out_of_range
        self.device = device
        self.tile_size = tile_size
        self.tta = tta
        self.engine = engine
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        for key, value in kwargs.items():
            if not key.startswith(NESTED_PREFIXES):
                raise TypeError(
                    f"DocumentDenoiser got an unexpected keyword argument {key!r}; nested "
                    f"parameters must start with one of {NESTED_PREFIXES}."
                )
            setattr(self, key, value)

    # ------------------------------------------------------------------ params
    def _nested_keys(self) -> list[str]:
        return sorted(k for k in vars(self) if k.startswith(NESTED_PREFIXES))

    def _nested(self, prefix: str) -> dict[str, Any]:
        return {
            k[len(prefix) :]: getattr(self, k) for k in self._nested_keys() if k.startswith(prefix)
        }

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Get parameters, including nested ``module__*``/``optimizer__*``/``loss__*`` ones.

        Parameters
        ----------
        deep : bool, default=True
            Kept for scikit-learn compatibility; there are no sub-estimators.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        params.update({k: getattr(self, k) for k in self._nested_keys()})
        return params

    def set_params(self, **params: Any) -> DocumentDenoiser:
        """Set parameters, including nested ``module__*``/``optimizer__*``/``loss__*`` ones.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : DocumentDenoiser
            This estimator.
        """
        plain = {}
        for key, value in params.items():
            if key.startswith(NESTED_PREFIXES):
                setattr(self, key, value)
            else:
                plain[key] = value
        if plain:
            super().set_params(**plain)
        return self

    def _validate_params(self) -> None:
        validate_params(self)
        if self.checkpoint is not None and not (
            isinstance(self.optimizer, str) and isinstance(self.loss, str)
        ):
            raise ValueError(
                "checkpoint needs optimizer and loss given by name (model files "
                "store names, not classes)."
            )

    # ------------------------------------------------------------------ input
    def _check_X(self, X: Any, *, reset: bool, name: str = "X") -> ImageBatch:
        batch = check_images(
            X, image_shape=self.image_shape, name=name, out_of_range=self.out_of_range
        )
        if name == "X" and batch.form == "array2d":
            try:
                validate_data(self, X, reset=reset, skip_check_array=True)
            except ValueError as exc:  # n_features_in_ / feature names differ from fit
                raise InvalidImageError(str(exc)) from None
        elif reset:
            for attr in ("n_features_in_", "feature_names_in_"):
                if hasattr(self, attr):
                    delattr(self, attr)
        return batch

    def _split(self, n: int, groups: Any, seed: int) -> tuple[np.ndarray, np.ndarray]:
        # Imported here: sklearn.model_selection pulls in sklearn.metrics (0.1 s),
        # which cleaning pages never needs.
        from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit

        idx = np.arange(n)
        if self.validation_fraction == 0 or n < 2:
            return idx, idx[:0]
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape != (n,):
                raise InvalidImageError(
                    f"groups must hold one label per image: expected shape ({n},), "
                    f"got {groups.shape}."
                )
            if len(np.unique(groups)) < 2:
                return idx, idx[:0]
            splitter: Any = GroupShuffleSplit(
                1, test_size=self.validation_fraction, random_state=seed
            )
        else:
            n_val = min(n - 1, max(1, int(round(self.validation_fraction * n))))
            splitter = ShuffleSplit(1, test_size=n_val, random_state=seed)
        train_idx, val_idx = next(splitter.split(idx, groups=groups))
        return np.sort(train_idx), np.sort(val_idx)

    # ------------------------------------------------------------------ pieces
    def _build_module(self) -> nn.Module:
        cls = get_model_class(self.model)
        try:
            return cls(**self._nested("module__"))
        except TypeError as exc:
            raise ValueError(
                f"Cannot build model {cls.__name__} with {self._nested('module__')}: {exc}"
            ) from None

    def _build_optimizer(self, module: nn.Module) -> torch.optim.Optimizer:
        cls = _resolve(self.optimizer, _OPTIMIZERS, "optim")
        kwargs = {"lr": self.lr, **self._nested("optimizer__")}
        try:
            return cls(module.parameters(), **kwargs)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"Cannot build optimizer {cls.__name__} with {kwargs}: {exc}"
            ) from None

    def _continued_optimizer(self, module: nn.Module) -> torch.optim.Optimizer:
        """The optimizer for a warm-started fit.

        The previous optimizer is kept (with its state, e.g. Adam's moment estimates)
        but takes the current ``lr`` and ``optimizer__*`` values, so ``set_params``
        between fits works as for a fresh fit; a changed optimizer class, or one lost
        by pickling, starts anew.
        """
        cls = _resolve(self.optimizer, _OPTIMIZERS, "optim")
        previous: torch.optim.Optimizer | None = getattr(self, "optimizer_", None)
        if previous is None or type(previous) is not cls:
            return self._build_optimizer(module)
        settings = {"lr": self.lr, **self._nested("optimizer__")}
        for group in previous.param_groups:
            group.update({k: v for k, v in settings.items() if k in group})
        return previous

    def _build_loss(self) -> nn.Module:
        cls = _resolve(self.loss, _LOSSES, "nn")
        try:
            return cls(**self._nested("loss__"))
        except TypeError as exc:
            raise ValueError(
                f"Cannot build loss {cls.__name__} with {self._nested('loss__')}: {exc}"
            ) from None

    def _check_fitted(self) -> None:
        """Raise docdenoise's NotFittedError (a subclass of sklearn's) if not fitted."""
        try:
            check_is_fitted(self)  # asks __sklearn_is_fitted__
        except _SklearnNotFittedError as exc:
            raise NotFittedError(str(exc)) from None

    # ------------------------------------------------------------------ API
    @with_torch_threads
    @rollback_on_error
    def fit(self, X: Any, y: Any, *, groups: Any = None) -> DocumentDenoiser:
        """Train the network to turn noisy images ``X`` into clean images ``y``.

        Parameters
        ----------
        X : list of 2-D arrays, ndarray of shape (n, H, W) or (n, H * W)
            Noisy images; sizes may differ within a list. ``uint8`` is scaled by
            1/255; floats must lie in ``[0, 1]``.
        y : same form as X
            Clean targets, one per noisy image and of the same shape.
        groups : array-like of shape (n,), default=None
            Group labels (e.g. the source page); the validation split keeps each
            group on one side.

        Returns
        -------
        self : DocumentDenoiser
            The fitted estimator.

        Raises
        ------
        InvalidImageError
            ``X`` or ``y`` is not valid image data, or they do not pair up.
        DivergenceError
            The training loss became NaN or infinite (try a smaller ``lr``).

        Notes
        -----
        What a failed or interrupted ``fit`` leaves behind:

        * Ctrl-C (``KeyboardInterrupt``) during training stops it early without an
          error: ``fit`` warns with
          :class:`~docdenoise.exceptions.TrainingInterruptedWarning` and returns the
          estimator, fitted with the weights learned so far; ``history_`` lists
          only the completed epochs. ``fit`` again with ``warm_start=True`` goes on.
        * Any other exception (including :class:`~docdenoise.exceptions.DivergenceError`)
          leaves the estimator exactly as it was before the call: still unfitted,
          or with its previous network, optimizer state and ``history_`` (also
          with ``warm_start=True``).
        * With ``checkpoint=path``, the file is rewritten after every epoch and once
          more when ``fit`` returns (also after Ctrl-C), so it always matches the
          last complete epoch or the returned estimator.
        """
        torch = require_torch("Training (DocumentDenoiser.fit)")
        from ._training import TrainSettings, make_buckets, train

        self._validate_params()
        if y is None:
            raise InvalidImageError(
                "DocumentDenoiser requires y to be passed, but the target y is None: it "
                "learns from noisy images X and their clean target images y."
            )

        if self.warm_start and self._is_fitted():
            self._require_module("fit with warm_start=True")  # (the shipped model loads)
        continuing = bool(self.warm_start) and "module_" in vars(self)
        Xb = self._check_X(X, reset=not continuing)
        if len(getattr(y, "shape", ())) == 1:
            raise InvalidImageError(
                f"y must hold clean target images in the same form and shapes as X, got a "
                f"1-D array of shape {y.shape} (class labels or a regression target?)."
            )
        Yb = check_images(y, image_shape=Xb.image_shape, name="y", out_of_range=self.out_of_range)
        check_pairs(Xb, Yb)

        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        device = resolve_device(self.device)
        train_idx, val_idx = self._split(len(Xb), groups, seed)

        with seeded_global_rng(seed):  # fork_rng + manual_seed, safe in threads
            if continuing:
                module = self.module_.to(device)
                optimizer = self._continued_optimizer(module)
                start_epoch = len(self.history_)
                history = list(self.history_)
            else:
                with GLOBAL_RNG_LOCK:  # seed + init atomically when fits run in threads
                    torch.manual_seed(seed)
                    module = self._build_module().to(device)
                optimizer = self._build_optimizer(module)
                start_epoch, history = 0, []
            criterion = self._build_loss()
            multiple = network_contract(module).size_multiple
            generator = torch.Generator().manual_seed(seed)
            train_data = self._training_data(
                [Xb.images[i] for i in train_idx],
                [Yb.images[i] for i in train_idx],
                multiple,
                device,
            )
            valid_buckets = make_buckets(
                [Xb.images[i] for i in val_idx],
                [Yb.images[i] for i in val_idx],
                size_multiple=multiple,
                device=device,
            )
            settings = TrainSettings.from_params(self.get_params())
            callbacks = progress_callbacks(self.verbose, settings.epochs)
            if self.checkpoint is not None:
                meta = self._model_meta(module)
                callbacks.append(Checkpoint(self.checkpoint, module, meta, history))
            history += interruptible(train)(
                module,
                optimizer,
                criterion,
                train_data,
                valid_buckets,
                settings,
                generator=generator,
                start_epoch=start_epoch,
                callbacks=callbacks,
            )
        if self.checkpoint is not None:  # final weights: early stopping's best, or Ctrl-C's
            self._write_model(self.checkpoint, module, history)
        self.module_ = module
        self.optimizer_ = optimizer
        self.device_ = device
        self.history_ = history
        for stale in ("onnx_model_", "pretrained_name_"):  # they describe the old weights
            if hasattr(self, stale):
                delattr(self, stale)
        return self

    def _training_data(
        self, X: list[np.ndarray], Y: list[np.ndarray], multiple: int, device: torch.device
    ) -> list | PatchSampler:
        """Whole-page size buckets, or random patches when ``patch_size`` is set."""
        from ._training import PatchSampler, make_buckets

        if self.patch_size is None:
            return make_buckets(X, Y, size_multiple=multiple, device=device)
        size = round_up(self.patch_size, multiple)
        return PatchSampler(
            X, Y, patch_size=size, patches_per_image=int(self.patches_per_image), device=device
        )

    def _inference_options(self) -> dict[str, Any]:
        """``tile_size`` and ``tta`` for inference, checked."""
        return {"tile_size": self.tile_size, "tta": check_tta(self.tta)}

    def _is_fitted(self) -> bool:
        # (vars, not hasattr: looking up module_ would load the shipped torch weights)
        return "module_" in vars(self) or "onnx_model_" in vars(self)

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted: a torch network or an ONNX graph (scikit-learn's ``check_is_fitted``)."""
        return self._is_fitted()

    def _require_module(self, what: str) -> None:
        """Make sure ``module_`` is there: the shipped model's torch weights load on demand."""
        if "module_" in vars(self):
            return
        name = vars(self).get("pretrained_name_")
        if name is None:
            raise ValueError(
                f"{what} needs the torch network, but this estimator holds only an ONNX "
                "graph (it was loaded from an .onnx file); load the .safetensors model "
                "instead."
            )
        weights = type(self).load(WEIGHTS_DIR / f"{name}.safetensors", device=self.device)
        self.module_, self.device_, self.optimizer_ = weights.module_, weights.device_, None

    def __getattr__(self, name: str) -> Any:
        # pretrained() on the CPU loads the shipped model's ONNX form only; its torch
        # network (module_, device_, optimizer_) loads when first looked up.
        if name in ("module_", "device_", "optimizer_") and "pretrained_name_" in vars(self):
            self._require_module(name)
            return vars(self)[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _engine_name(self) -> str:
        """The engine that runs the network now, ``"torch"`` or ``"onnx"`` (see ``engine``)."""
        ENGINE.check("engine", self.engine)
        if self.engine == "torch":
            self._require_module("engine='torch'")
            return "torch"
        if self.engine == "onnx" or "module_" not in vars(self):
            return "onnx"
        has_graph = getattr(self, "onnx_model_", None) is not None
        on_cpu = self.device_.type == "cpu"
        return "onnx" if has_graph and on_cpu and onnxruntime_version() is not None else "torch"

    def _network(self) -> Network:
        """The network on the chosen engine, ready for :func:`predict_images`."""
        if self._engine_name() == "torch":
            from ._torch_engine import TorchNetwork

            return TorchNetwork(self.module_, self.device_)
        net: OnnxNetwork | None = getattr(self, "onnx_model_", None)
        if net is None:
            self.onnx_model_ = net = OnnxNetwork(
                self._export_graph(), name="<exported network>", n_threads=self.n_threads
            )
        elif net.n_threads != self.n_threads:
            self.onnx_model_ = net = OnnxNetwork(net.graph, name=net.name, n_threads=self.n_threads)
        return net

    def _threads_for(self, network: Network) -> Any:
        """Limit torch's threads for the torch engine (onnxruntime got them at set-up)."""
        if isinstance(network, OnnxNetwork):
            return nullcontext()
        return torch_threads(self.n_threads)

    def _predict(self, batch: ImageBatch) -> list[np.ndarray]:
        network = self._network()
        with self._threads_for(network):
            return predict_images(
                network, batch.images, batch_size=int(self.batch_size), **self._inference_options()
            )

    def iter_transform(self, X: Any) -> Iterator[np.ndarray]:
        """Clean a stream of images lazily, in constant memory.

        Unlike :meth:`transform`, which needs all images (and returns all results)
        at once, this reads one image from ``X`` (any iterable, e.g. a generator
        that loads pages from disk), cleans it and yields it before reading much
        further: only a few small images, or one large page, are held at a time.

        Parameters
        ----------
        X : iterable of 2-D arrays
            Noisy images of any sizes, in any accepted dtype.

        Returns
        -------
        images : iterator of ndarray of float32
            The cleaned images, each with its input's shape, in input order. Each
            image is checked when it is read (errors name it as ``X[i]``).

        Examples
        --------
        >>> from docdenoise import DocumentDenoiser
        >>> from docdenoise.datasets import make_dirty_documents
        >>> noisy, clean = make_dirty_documents(4, shape=(32, 48), random_state=0)
        >>> den = DocumentDenoiser(epochs=1, random_state=0).fit(noisy, clean)
        >>> pages = (page for page in noisy)  # e.g. loaded one at a time
        >>> [page.shape for page in den.iter_transform(pages)]
        [(32, 48), (32, 48), (32, 48), (32, 48)]
        """
        self._check_fitted()
        if isinstance(X, np.ndarray) and X.ndim == 2:
            raise InvalidImageError(
                "iter_transform expects an iterable of 2-D images, got one 2-D array; "
                "wrap a single page in a list."
            )
        return self._iter_transform(iter(X))

    def _iter_transform(self, X: Iterator[Any]) -> Iterator[np.ndarray]:
        def checked() -> Iterator[np.ndarray]:
            for i, image in enumerate(X):
                yield check_images([image], name=f"X[{i}]", out_of_range=self.out_of_range).images[
                    0
                ]

        network = self._network()
        with self._threads_for(network):
            yield from iter_predict(
                network,
                checked(),
                batch_size=int(self.batch_size),
                **self._inference_options(),
            )

    def transform(self, X: Any) -> Any:
        """Clean noisy images.

        Parameters
        ----------
        X : list of 2-D arrays, ndarray of shape (n, H, W) or (n, H * W)
            Noisy images of any sizes.

        Returns
        -------
        X_clean : list of ndarray or ndarray
            Cleaned float32 images in ``[0, 1]``, in the same form and shapes as ``X``.
        """
        self._check_fitted()
        batch = self._check_X(X, reset=False)
        return restore_form(self._predict(batch), batch)

    def score(self, X: Any, y: Any) -> float:
        """Negative root-mean-square error of the cleaned ``X`` against ``y``.

        Pooled over all pixels of all images (the Kaggle metric); higher is better.

        Parameters
        ----------
        X : list of 2-D arrays, ndarray of shape (n, H, W) or (n, H * W)
            Noisy images.
        y : same form as X
            Clean targets.

        Returns
        -------
        score : float
            ``-RMSE``, between -1 and 0.
        """
        self._check_fitted()
        Xb = self._check_X(X, reset=False)
        Yb = check_images(y, image_shape=Xb.image_shape, name="y", out_of_range=self.out_of_range)
        check_pairs(Xb, Yb)
        sq, count = 0.0, 0
        for pred, target in zip(self._predict(Xb), Yb.images):
            sq += float(np.sum((pred.astype(np.float64) - target) ** 2))
            count += target.size
        return -float(np.sqrt(sq / count))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        # object.__getstate__ returns the live __dict__: copy before replacing entries.
        state = dict(super().__getstate__())
        if "module_" in state:
            state["module_"] = copy.deepcopy(self.module_).to("cpu")
            state["optimizer_"] = None
            state["device_"] = str(self.device_)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if "module_" in state:
            self.device_ = self._device_for_loading(state["device_"])
            self.module_ = self.module_.to(self.device_)

    def _device_for_loading(self, saved: str) -> torch.device:
        wanted = saved if self.device == "auto" else self.device
        try:
            return resolve_device(wanted)
        except DeviceError:
            warnings.warn(
                f"The model was on {saved!r}; device {wanted!r} is not available here "
                f"(available: {available_devices()}), so it is loaded on the CPU.",
                DeviceWarning,
                stacklevel=3,
            )
            return resolve_device("cpu")

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> None:
        """Save the fitted estimator to a safetensors model file (no pickle).

        The write is atomic: an interruption leaves any previous file intact.

        Parameters
        ----------
        path : str or path-like
            Destination file, conventionally ending in ``.safetensors``.
        """
        self._check_fitted()
        self._require_module("save")
        self._write_model(path, self.module_, self.history_)

    def export_onnx(self, path: str | os.PathLike) -> None:
        """Export the fitted network to an ONNX file, for the onnx engine and other runtimes.

        The graph takes ``noisy`` ``[N, 1, H, W]`` float32 pages in ``[0, 1]`` with any
        batch size and any height and width that are multiples of the network's
        ``size_multiple``, and returns ``cleaned`` of the same shape. The file's
        ``metadata_props`` carry, as JSON under the key ``"docdenoise"``, the
        architecture, ``size_multiple``, ``receptive_margin``, this estimator's
        parameters (``tta``, ``tile_size`` ...) and training history, so that
        :meth:`load` turns the file back into an estimator that cleans pages like
        this one, also where torch is not installed. The export is checked against
        the network in onnxruntime before it is written (atomically), and kept as
        ``onnx_model_``, so ``engine="auto"`` uses it on the CPU from now on.

        Parameters
        ----------
        path : str or path-like
            Destination file, conventionally ending in ``.onnx``.

        Raises
        ------
        ImportError
            torch, onnx or onnxscript is not installed (``pip install
            "docdenoise[export]"``).
        ExportError
            The network cannot be exported, or the export does not reproduce it.

        Examples
        --------
        >>> import tempfile
        >>> from pathlib import Path
        >>> from docdenoise import DocumentDenoiser
        >>> from docdenoise.datasets import make_dirty_documents
        >>> noisy, clean = make_dirty_documents(4, shape=(32, 48), random_state=0)
        >>> den = DocumentDenoiser(epochs=1, random_state=0).fit(noisy, clean)
        >>> path = Path(tempfile.mkdtemp()) / "model.onnx"
        >>> den.export_onnx(path)
        >>> onnx_den = DocumentDenoiser.load(path)  # no torch needed from here on
        >>> bool(abs(onnx_den.transform(noisy) - den.transform(noisy)).max() < 1e-4)
        True
        """
        self._check_fitted()
        self._require_module("export_onnx")
        graph = self._export_graph()
        atomic_write_bytes(path, graph)
        self.onnx_model_ = OnnxNetwork(graph, name=str(path), n_threads=self.n_threads)

    def _export_graph(self) -> bytes:
        from ._onnx_export import export_network

        meta = {**self._model_meta(self.module_), "history": self.history_}
        return export_network(self.module_, meta=meta)

    def _write_model(self, path: str | os.PathLike, module: nn.Module, history: list[dict]) -> None:
        meta = {**self._model_meta(module), "history": history}
        _serialization.write_model_file(path, module.state_dict(), meta)

    def _model_meta(self, module: nn.Module) -> dict[str, Any]:
        """The model file's metadata but the history: network, parameters, input size."""
        model = self.model
        if not isinstance(model, str):
            model = f"{model.__module__}.{model.__qualname__}"
        params = {k: v for k, v in self.get_params().items() if k != "model"}
        if not isinstance(params.get("optimizer"), str) or not isinstance(params.get("loss"), str):
            raise ValueError("Only estimators with optimizer and loss given by name can be saved.")
        random_state = params.get("random_state")
        if random_state is not None and not isinstance(random_state, numbers.Integral):
            params["random_state"] = None
        if params.get("checkpoint") is not None:
            params["checkpoint"] = os.fspath(params["checkpoint"])
        meta: dict[str, Any] = {
            "model": model,
            "architecture": type(module).__name__,
            "params": params,
        }
        if hasattr(self, "n_features_in_"):
            meta["n_features_in"] = int(self.n_features_in_)
        return meta

    @classmethod
    def load(
        cls,
        path: str | os.PathLike,
        *,
        device: str = "auto",
        model: type[nn.Module] | None = None,
    ) -> DocumentDenoiser:
        """Load an estimator saved with :meth:`save` or :meth:`export_onnx`.

        Loading never executes code from the file: weights are plain tensors,
        ONNX graphs hold standard operators only, and metadata is JSON. A file
        whose name ends in ``.onnx`` is read as an exported network: that needs
        onnxruntime only (no torch), and the estimator cleans pages with the onnx
        engine but cannot be trained further.

        Parameters
        ----------
        path : str or path-like
            A file written by :meth:`save` (``.safetensors``, needs torch) or by
            :meth:`export_onnx` (``.onnx``).
        device : str, default="auto"
            Where to put the network (a GPU-trained model loads on a CPU-only
            machine). ONNX models run on the CPU: ``"auto"`` or ``"cpu"``.
        model : type of torch.nn.Module, default=None
            The network class, needed only when the model was saved with a custom
            class that is not registered by name.

        Returns
        -------
        estimator : DocumentDenoiser
            A fitted estimator.

        Raises
        ------
        ModelFileError
            The file is not a docdenoise model (pickles and ``torch.save`` files are
            refused unread), is truncated, damaged or edited, or is incompatible.
        DeviceError
            ``device`` names a device this machine does not have.
        """
        if Path(path).suffix.lower() == ".onnx":
            return cls._load_onnx(path, device=device)
        tensors, meta = _serialization.read_model_file(path)
        params = dict(meta.get("params") or {})
        name = meta.get("model")
        if model is None:
            try:
                model_cls = get_model_class(str(name))
            except ValueError:
                raise ModelFileError(
                    f"{str(path)!r} holds a model of class {name!r}, which is not registered here; "
                    "pass model=TheClass to load it."
                ) from None
            params["model"] = name
        else:
            model_cls = model
            params["model"] = model
        params["device"] = device
        try:
            est = cls._from_meta(params, meta)
            # shapes are checked before the network is allocated (hostile files)
            module = _serialization.build_module(model_cls, est._nested("module__"), tensors)
        except (TypeError, RuntimeError, ValueError) as exc:
            raise ModelFileError(
                f"{str(path)!r} does not match architecture {model_cls.__name__}: {exc}"
            ) from None
        est.device_ = resolve_device(device)
        est.module_ = module.to(est.device_).eval()
        est.optimizer_ = None
        return est

    @classmethod
    def _from_meta(cls, params: dict[str, Any], meta: dict[str, Any]) -> DocumentDenoiser:
        """An estimator with the stored parameters, history and input size (no network yet)."""
        if isinstance(params.get("image_shape"), list):  # JSON has no tuples
            params["image_shape"] = tuple(params["image_shape"])
        IMAGE_SHAPE.check("image_shape", params.get("image_shape"))
        est = cls(**params)
        if "n_features_in" in meta:
            est.n_features_in_ = int(meta["n_features_in"])
        est.history_ = [
            {k: (float("nan") if v is None else v) for k, v in rec.items()}
            for rec in meta.get("history", [])
        ]
        est.loaded_from_version_ = meta.get("library_version", __version__)
        return est

    @classmethod
    def _load_onnx(cls, path: str | os.PathLike, *, device: str) -> DocumentDenoiser:
        if device not in ("auto", "cpu"):
            raise DeviceError(
                f"{str(path)!r} is an ONNX model, which runs on the CPU (onnxruntime); "
                f"device={device!r} needs the torch network: load the .safetensors model."
            )
        network = OnnxNetwork(read_onnx_file(path), name=str(path))
        meta = network.meta
        params = dict(meta.get("params") or {})
        params.update(model=str(meta.get("model", meta["architecture"])), device=device)
        try:
            est = cls._from_meta(params, meta)
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"{str(path)!r} has unusable docdenoise metadata: {exc}") from None
        est.onnx_model_ = network
        return est

    @classmethod
    def pretrained(
        cls, name: str = "default", *, device: str = "auto", engine: str = "auto"
    ) -> DocumentDenoiser:
        """Load a pretrained denoiser shipped with docdenoise; no training needed.

        The shipped models were trained only on synthetic pages from
        :func:`docdenoise.datasets.make_dirty_documents` (see the model card in
        the documentation and ``docdenoise/weights/<name>.json``). The returned
        estimator has ``warm_start=True``, so ``fit(X, y)`` fine-tunes it on your
        own noisy/clean pairs instead of starting anew.

        Each model ships twice: as torch weights (``<name>.safetensors``) and
        exported to ONNX (``<name>.onnx``), so that it cleans pages without torch.
        Cleaning on the CPU loads the ONNX form only (torch is not even imported);
        the torch weights load when something needs them (``fit``,
        ``engine="torch"``, :meth:`save`).

        Parameters
        ----------
        name : str, default="default"
            Which shipped model; see :func:`docdenoise.pretrained_models`.
            ``"default"`` was last trained on crisp, dark text, as on the real
            scans measured, with faded print on some pages; ``"varied"`` (an
            earlier default) does better on blurry or heavily compressed text.
        device : str, default="auto"
            Where to put the network. With ``engine="auto"``, ``"auto"`` and
            ``"cpu"`` clean on the CPU with onnxruntime; name a GPU (``"cuda"``,
            ``"mps"``) to clean on it with torch.
        engine : {"auto", "torch", "onnx"}, default="auto"
            The returned estimator's ``engine``, and which form loads now: the ONNX
            graph (``"onnx"``, and ``"auto"`` on the CPU when onnxruntime is
            installed) or the torch network.

        Returns
        -------
        estimator : DocumentDenoiser
            A fitted estimator.

        Raises
        ------
        ValueError
            No shipped model has this name.

        Examples
        --------
        >>> from docdenoise import DocumentDenoiser
        >>> from docdenoise.datasets import make_dirty_documents
        >>> noisy, clean = make_dirty_documents(1, shape=(64, 96), random_state=0)
        >>> den = DocumentDenoiser.pretrained()
        >>> den.transform(noisy).shape
        (1, 64, 96)
        """
        names = pretrained_models()
        if name not in names:
            raise ValueError(f"Unknown pretrained model {name!r}; expected one of {names}.")
        ENGINE.check("engine", engine)
        weights = WEIGHTS_DIR / f"{name}.safetensors"
        graph = weights.with_suffix(".onnx")
        on_cpu = device in ("auto", "cpu") and graph.is_file()
        if engine == "onnx" or (
            engine == "auto" and on_cpu and (onnxruntime_version() or not torch_installed())
        ):
            est = cls.load(graph, device=device)
            est.pretrained_name_ = name
        else:
            est = cls.load(weights, device=device)
        return est.set_params(warm_start=True, engine=engine)
