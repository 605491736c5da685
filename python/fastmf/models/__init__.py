"""fastmf's models; import them from the package root."""
from .als import ALS
from .sgd import SGD

__all__ = ["ALS", "SGD"]
