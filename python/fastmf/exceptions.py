"""Exceptions and warnings raised by fastmf."""
from __future__ import annotations


class FastMFError(Exception):
    """Base class of every error fastmf raises on its own account.

    Each subclass also derives from the builtin exception that fits it (``ValueError``,
    ``RuntimeError``, ``FileNotFoundError``), so either can be caught. Invalid arguments
    (a wrong type, a value out of range) raise plain ``TypeError`` or ``ValueError``.

    Examples
    --------
    >>> import fastmf
    >>> try:
    ...     fastmf.ALS().recommend("ann")
    ... except fastmf.FastMFError as error:
    ...     print(type(error).__name__)
    NotFittedError
    """


class NotFittedError(FastMFError, ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``.

    Also a ``ValueError`` and an ``AttributeError``, as scikit-learn's is.

    Examples
    --------
    >>> import fastmf
    >>> model = fastmf.ALS()
    >>> model.predict(["ann"], ["x"])
    Traceback (most recent call last):
    ...
    fastmf.exceptions.NotFittedError: this ALS instance is not fitted yet; call fit() first
    >>> try:
    ...     model.recommend("ann")
    ... except AttributeError:
    ...     print("fit it first")
    fit it first
    """


class UnknownIdError(FastMFError, ValueError):
    """A raw user or item id was not in the training data where a known id is required.

    Raised by ``recommend``, ``similar_items``, ``fold_in`` and the other methods that
    need a known id; ``predict`` instead falls back on what the model knows.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.toy()
    >>> model = fastmf.ALS(factors=2, iterations=2, seed=0, verbose=False).fit(data)
    >>> model.recommend("Dave")
    Traceback (most recent call last):
    ...
    fastmf.exceptions.UnknownIdError: user 'Dave' was not in the training data; ...
    >>> try:
    ...     model.recommend("Bob", items=["Sholay", "Dune"])
    ... except ValueError as error:
    ...     print(error)
    item 'Dune' in items is not known to the model; pass unknown="ignore" to drop unknown ids from filters
    """


class ModelFitError(FastMFError, RuntimeError):
    """Training failed numerically (a singular system, a non-finite factor).

    Raised by ``fit`` and by the row solves of ``fold_in`` and the partial fits; the
    message suggests a fix. A failed ``fit`` leaves an earlier fit in place, except that
    SGD keeps the new fit up to its last finite epoch when one completed.

    Examples
    --------
    >>> import fastmf
    >>> model = fastmf.SGD(factors=2, epochs=3, learning_rate=1e4, num_threads=1, seed=0,
    ...                    verbose=False)
    >>> try:
    ...     model.fit(fastmf.datasets.toy())
    ... except RuntimeError as error:
    ...     print(type(error).__name__, "-", error)
    ModelFitError - SGD diverged in epoch 1 (learning rate 1e+04): the loss became non-finite; ...
    """

    keeps_last_state: bool     # set (True) by a model that restored its last finite state


class ModelFileError(FastMFError, ValueError):
    """A model file cannot be loaded: it is damaged, not a fastmf model file, or written
    by a newer fastmf than this one.

    Raised by :func:`fastmf.load`.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, fastmf
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "arrays.npz")
    ...     np.savez(path, x=np.arange(3))
    ...     try:
    ...         fastmf.load(path)
    ...     except ValueError as error:
    ...         print(type(error).__name__, "-", error)
    ModelFileError - cannot load '...arrays.npz': not a fastmf model file ...
    """


class ClusterError(FastMFError, RuntimeError):
    """A distributed fit cannot go on: its Dask client was closed, or the cluster made no
    progress for the model's ``timeout`` (no workers, every worker paused by Dask's memory
    monitor, tasks no worker takes).

    Raised by ``fit`` of ``fastmf.distributed.ALS`` and ``ImplicitALS``; the message names
    the cause and what to do. The model keeps an earlier fit, and the fit's tasks are
    cancelled.

    Examples
    --------
    >>> import fastmf, fastmf.distributed
    >>> from distributed import Client, LocalCluster
    >>> cluster = LocalCluster(n_workers=0, processes=False, dashboard_address=":0")
    >>> client = Client(cluster)
    >>> model = fastmf.distributed.ALS(factors=2, iterations=2, timeout=0.5, verbose=False)
    >>> try:
    ...     model.fit(fastmf.datasets.toy())
    ... except RuntimeError as error:
    ...     print(type(error).__name__, "-", error)
    ClusterError - the distributed fit could not start in timeout=0.5 s: the Dask cluster has no workers; ...
    >>> client.close(); cluster.close()
    """


class DataNotFoundError(FastMFError, FileNotFoundError):
    """A data set is not available locally and could not be downloaded.

    Raised by :func:`fastmf.datasets.load_movielens`.

    Examples
    --------
    >>> import tempfile, fastmf
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     try:
    ...         fastmf.datasets.load_movielens("100k", data_home=folder, download=False)
    ...     except FileNotFoundError as error:
    ...         print(type(error).__name__, isinstance(error, fastmf.FastMFError))
    DataNotFoundError True
    """


class FastMFWarning(UserWarning):
    """Base class of fastmf's warnings; filter on it to silence them all.

    Examples
    --------
    >>> import warnings, fastmf
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.filterwarnings("ignore", category=fastmf.FastMFWarning)
    ...     warnings.warn("kept", UserWarning)
    ...     warnings.warn("silenced", fastmf.FastMFWarning)
    >>> [str(w.message) for w in caught]
    ['kept']
    """
