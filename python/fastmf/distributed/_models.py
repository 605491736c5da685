"""Where ``fastmf.distributed.ALS`` and ``ImplicitALS`` were defined before ``als.py`` and
``implicit_als.py``: a pickle names a class by its module, so the pickles of distributed
models made then name this one."""
from .als import ALS
from .implicit_als import ImplicitALS

__all__ = ["ALS", "ImplicitALS"]
