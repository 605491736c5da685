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
from .data import Interactions, ItemInfo
from .exceptions import (DataNotFoundError, FastMFError, FastMFWarning, ModelFitError,
                         NotFittedError, UnknownIdError)
from .model_selection import train_test_split
from .models import ALS, BPR, SGD, ImplicitALS

__version__ = "0.1.0"

__all__ = ["ALS", "BPR", "ImplicitALS", "DataNotFoundError", "FastMFError", "FastMFWarning", "Interactions",
           "ItemInfo", "ModelFitError", "NotFittedError", "SGD", "UnknownIdError", "datasets",
           "metrics", "train_test_split", "__version__"]
