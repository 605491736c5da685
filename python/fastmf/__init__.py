"""fastmf: matrix factorization for recommender systems, with a C++ core.

Examples
--------
>>> import fastmf
>>> data = fastmf.datasets.toy()
>>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
>>> model.predict(["Bob"], ["Sholay"]).shape
(1,)
"""
from . import datasets, metrics
from . import plotting as plot
from .data import Interactions, ItemInfo
from .features import ItemFeatures, UserFeatures
from .exceptions import (ClusterError, DataNotFoundError, FastMFError, FastMFWarning,
                         ModelFileError, ModelFitError, NotFittedError, UnknownIdError)
from .io import load
from ._config import show_config
from .model_selection import GridSearch, cross_validate, train_test_split, tune
from .models import ALS, BPR, SGD, ImplicitALS

from ._version import __version__

__all__ = ["ALS", "BPR", "ImplicitALS", "ClusterError", "DataNotFoundError", "FastMFError", "FastMFWarning", "Interactions",
           "ItemFeatures", "ItemInfo", "ModelFileError", "ModelFitError", "NotFittedError", "SGD", "UnknownIdError", "UserFeatures",
           "datasets", "load", "metrics", "plot", "GridSearch", "cross_validate", "train_test_split", "tune",
           "show_config", "__version__"]
