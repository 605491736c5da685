"""fastmf's models; import them from the package root."""
from .als import ALS

__all__ = ["ALS"]
