"""fastmf's models; import them from the package root."""
from .als import ALS
from .implicit_als import ImplicitALS
from .sgd import SGD

__all__ = ["ALS", "ImplicitALS", "SGD"]
