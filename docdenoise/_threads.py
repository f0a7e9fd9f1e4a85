"""Limit PyTorch's CPU threads while the estimator works.

Why not :mod:`threadpoolctl`: PyTorch initialises its OpenMP thread count lazily,
once per thread, on the first parallel operation (``torch.get_num_threads`` included),
and that initialisation overwrites a limit threadpoolctl set earlier on a fresh
thread (measured with torch 2.13: ``threadpool_limits(1)`` on a new thread still
reports and uses 2 threads). ``torch.set_num_threads`` is the reliable switch: it
changes the calling thread at once and becomes the default of threads created later.

Where limits are already in place: joblib's loky workers (``GridSearchCV(n_jobs=k)``)
start with ``OMP_NUM_THREADS = cpu_count // k``, which torch reads at import, and
dask's nanny-managed worker processes start with ``OMP_NUM_THREADS=1``. The gap is
thread-based parallelism inside one process (a ``dask.distributed`` cluster with
``processes=False``, joblib's threading backend), where each task would otherwise use
all cores; ``DocumentDenoiser(n_threads=1)`` closes it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from ._params import N_THREADS

__all__ = [
    "GLOBAL_RNG_LOCK",
    "seeded_global_rng",
    "torch_threads",
    "with_torch_threads",
]

#: Held while seeding torch's global random generator and initialising a network:
#: estimators fitted in threads of one process (joblib's threading backend, dask
#: with ``processes=False``) share that generator, and without the lock one fit's
#: ``manual_seed`` can land between another's seed and its weight initialisation,
#: making results depend on timing.
GLOBAL_RNG_LOCK = threading.Lock()

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def seeded_global_rng(seed: int) -> Iterator[None]:
    """Seed torch's global CPU generator for the body, then restore its state.

    Like ``torch.random.fork_rng(devices=[])`` followed by ``torch.manual_seed``,
    but every write to the generator happens under :data:`GLOBAL_RNG_LOCK`, so
    that one fit's seeding or restoring can never land inside another fit's
    seed-and-initialise section (``with GLOBAL_RNG_LOCK: manual_seed; build``).
    """
    import torch

    with GLOBAL_RNG_LOCK:
        state = torch.get_rng_state()
        torch.manual_seed(seed)
    try:
        yield
    finally:
        with GLOBAL_RNG_LOCK:
            torch.set_rng_state(state)


@contextmanager
def torch_threads(n_threads: Any) -> Iterator[None]:
    """Run the body with ``torch.set_num_threads(n_threads)``, then restore the previous count.

    ``None`` leaves the setting alone. The previous value is the calling thread's own
    (read after torch's lazy per-thread initialisation), so concurrent workers in
    several threads each get their count back.
    """
    if N_THREADS.check("n_threads", n_threads) is None:
        yield
        return
    import torch

    n = int(n_threads)
    previous = torch.get_num_threads()
    if previous == n:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def with_torch_threads(method: F) -> F:
    """Decorate an estimator method to run under ``torch_threads(self.n_threads)``."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with torch_threads(self.n_threads):
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
