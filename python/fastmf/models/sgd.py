"""Explicit, biased matrix factorization trained by parallel (Hogwild) SGD."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from .._kernels import sgd
from ._explicit import BiasedMF
from ._factors import factor_bytes
from ._fit import LastFiniteState
from ._params import SGDParams, as_kernels_see, biased_params, check_bool

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import DTypeLike, NDArray

    from .._typing import FloatArray, FloatDType, Int64Array, Record, Seed
    from ..data import Interactions
    from ._explicit import BiasedState

# Ratings are laid out in a grid of user blocks x item blocks so that the factor rows one
# block touches stay in cache (and are reused there: a block must hold several ratings per
# row); a block spans about this many bytes of factor rows per side.
_BLOCK_ROW_BYTES = 1 << 21
_MAX_GRID = 256


class SGD(BiasedMF[SGDParams]):
    r"""Biased matrix factorization for explicit ratings, trained by stochastic gradient
    descent (Funk's SVD with biases), in parallel Hogwild style.

    The model and loss are those of :class:`fastmf.ALS` with plain λ:
    :math:`\hat r_{ui} = \mu + b_u + b_i + p_u \cdot q_i`, minimising
    :math:`\sum_\Omega (r_{ui} - \hat r_{ui})^2 + \lambda (\sum_u \|p_u\|^2 + \sum_i
    \|q_i\|^2) + \lambda_b (\sum_u b_u^2 + \sum_i b_i^2)`. For each rating, with
    :math:`e = r_{ui} - \hat r_{ui}` and step :math:`\eta`:

    .. math::
        b_u \mathrel{+}= \eta (e - \lambda_b b_u), \quad
        b_i \mathrel{+}= \eta (e - \lambda_b b_i), \quad
        p_u \mathrel{+}= \eta (e\, q_i - \lambda p_u), \quad
        q_i \mathrel{+}= \eta (e\, p_u - \lambda q_i)

    (both vectors from their values before the step). An epoch visits every rating once.
    The ratings are laid out once per fit in a grid of user blocks × item blocks, each
    block in a random order; every epoch visits the blocks in a new random order, and
    threads take whole blocks, updating the shared factors without locks (Hogwild, Niu et
    al. 2011). Blocks keep the rows a thread touches in cache. With ``num_threads=1`` and
    a seed, a fit is bit-for-bit repeatable; with more threads, updates race as Hogwild
    allows and results vary in the last digits.

    Parameters
    ----------
    factors : int, default 64
    epochs : int, default 60
    learning_rate : float, default 0.007
        η of the first epoch.
    decay : float in (0, 1], default 1.0
        η of epoch t (from 0) is ``learning_rate * decay**t``; 1.0 keeps it constant.
    regularization : float, default 0.08
        λ on the factor vectors.
    bias_regularization : float, default 0.05
        λ_b on the biases.
    init_std : float, default 0.01
        Standard deviation of the normal initialization of the factors (biases start at 0).
    shuffle : bool, default True
        Random block layout and order; ``False`` visits ratings by user, then item, every
        epoch (reproducible, usually slower to converge).
    early_stopping : int or None, default None
        Stop when the validation RMSE has not improved for this many epochs and keep the
        best epoch's model (needs ``fit(..., validation=...)``).
    dtype : {"float32", "float64"}, default "float32"
    num_threads : int, default 0
        0 uses all cores (OpenMP, honours OMP_NUM_THREADS).
    seed : int, numpy Generator or None, default None
    verbose : bool, default True

    Attributes
    ----------
    user_factors_, item_factors_, user_biases_, item_biases_, global_mean_
        As for :class:`fastmf.ALS`.
    history_ : list of dict
        Per epoch: ``loss`` and ``train_rmse`` accumulated over the epoch's updates (each
        error taken just before its step, as LIBMF reports it), ``val_rmse`` with
        validation data (of clipped predictions, as ``predict`` gives them),
        ``learning_rate`` and ``seconds``.

    Raises
    ------
    ModelFitError
        When an epoch's loss or factors become non-finite (the learning rate is too large);
        the model then keeps the last finite state, the one before that epoch.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    >>> train, test = fastmf.train_test_split(data, test_size=0.2, seed=0)
    >>> model = fastmf.SGD(factors=16, epochs=20, seed=0, verbose=False).fit(train)
    >>> rmse = fastmf.metrics.rmse(test.ratings, model.predict(test.users, test.items))
    >>> bool(rmse < 1.0)
    True

    On MovieLens 100K (the 80/20 split of "Getting started") these settings reach a test RMSE
    of 0.904:

    >>> model = fastmf.SGD(factors=128, epochs=100, learning_rate=0.005, decay=1.0,
    ...                    regularization=0.09, bias_regularization=0.05, init_std=0.01,
    ...                    num_threads=1, seed=0, verbose=False)
    """

    _iterations_param = "epochs"
    _model_file = True

    def __init__(self, factors: int = 64, epochs: int = 60, learning_rate: float = 0.007,
                 decay: float = 1.0, regularization: float = 0.08,
                 bias_regularization: float = 0.05, init_std: float = 0.01, shuffle: bool = True,
                 early_stopping: int | None = None, dtype: FloatDType = "float32",
                 num_threads: int = 0, seed: Seed = None, verbose: bool = True) -> None:
        self.factors = factors
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.decay = decay
        self.regularization = regularization
        self.bias_regularization = bias_regularization
        self.init_std = init_std
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.dtype = dtype
        self.num_threads = num_threads
        self.seed = seed
        self.verbose = verbose

    def _check_params(self) -> SGDParams:
        return as_kernels_see(SGDParams(
            **biased_params(self),
            learning_rate=v.check_float("learning_rate", self.learning_rate, minimum=0,
                                        strict_minimum=True),
            decay=v.check_float("decay", self.decay, minimum=0, maximum=1, strict_minimum=True),
            shuffle=check_bool("shuffle", self.shuffle),
            weighted=0.0), self)          # plain λ in the shared objective

    def _start(self, data: Interactions, val: Interactions | None, p: SGDParams
               ) -> BiasedState:
        # The whole fit beyond the data: the factors and biases, their copy that undoes a
        # diverging epoch, and the block layout's peak (see layout_bytes).
        rows = data.n_users + data.n_items
        itemsize = np.dtype(p.dtype).itemsize
        v.check_memory(f"SGD on {data.nnz} ratings ({rows} rows of {p.factors} factors, the "
                       f"ratings laid out in blocks)",
                       factor_bytes(rows, p.factors, p.dtype) + rows * (p.factors + 1) * itemsize
                       + layout_bytes(data.nnz, p.dtype),
                       fix="use fewer ratings or factors" + (
                           ", or dtype='float32'" if p.dtype is np.float64 else ""))
        state = super()._start(data, val, p)
        state.rng = np.random.default_rng(p.seed)
        state.layout = block_layout(data, p.factors * itemsize, state.rng, p.shuffle, p.dtype,
                                    p.num_threads)
        state.epoch = 0
        state.backup = LastFiniteState((state.X, state.xb, state.Y, state.yb))
        return state

    def _iterate(self, state: BiasedState, p: SGDParams) -> None:
        n_blocks = len(state.layout[0]) - 1
        order = (state.rng.permutation(n_blocks) if p.shuffle
                 else np.arange(n_blocks)).astype(np.int32)
        lr = p.learning_rate * p.decay ** state.epoch
        state.backup.save()
        sse = sgd.epoch(state.layout, order, state.X, state.xb, state.Y, state.yb, state.mu, lr, p)
        state.epoch += 1
        if not np.isfinite(sse):
            raise state.backup.restore(
                f"SGD diverged in epoch {state.epoch} (learning rate {lr:.4g}): the loss became "
                f"non-finite; use a smaller learning_rate (now {p.learning_rate})")
        state.epoch_sse, state.lr = sse, lr

    def _training_sse(self, state: BiasedState, p: SGDParams) -> float:
        return state.epoch_sse

    def _evaluate(self, state: BiasedState, p: SGDParams) -> Record:
        return {**super()._evaluate(state, p), "learning_rate": state.lr}


def layout_bytes(n_ratings: int, dtype: DTypeLike) -> int:
    """The peak bytes of ``block_layout`` beyond the data: per rating, its value converted
    to dtype (when the data holds another) and the laid-out user, item and value."""
    return n_ratings * (2 * np.dtype(dtype).itemsize + 2 * 4)


def block_layout(data: Interactions, row_bytes: int, rng: np.random.Generator, shuffle: bool,
                 dtype: DTypeLike, num_threads: int = 0
                 ) -> tuple[Int64Array, NDArray[Any], NDArray[Any], FloatArray]:
    """(block_ptr, uidx, iidx, ratings): the ratings grouped into a grid of user blocks x
    item blocks (users and items assigned to blocks at random, ``side`` blocks a side so that
    a block's rows of ``row_bytes`` fit in cache), random order inside each block (C++: a
    counting scatter, then each block shuffled from a seed drawn from ``rng``). Without
    shuffle: one block, ratings by user then item."""
    if not shuffle:
        return (np.array([0, data.nnz], dtype=np.int64), data.uidx, data.iidx.copy(),
                data.ratings.astype(dtype))
    side = int(np.clip(np.ceil(max(data.n_users, data.n_items) * row_bytes / _BLOCK_ROW_BYTES),
                       8, _MAX_GRID))
    user_block = (rng.permutation(data.n_users) * side // data.n_users).astype(np.int32)
    item_block = (rng.permutation(data.n_items) * side // data.n_items).astype(np.int32)
    seed = int(rng.integers(np.iinfo(np.int64).max, dtype=np.int64))
    return sgd.layout(data, user_block, item_block, side, seed, dtype, num_threads)
