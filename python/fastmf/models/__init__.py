"""fastmf's models; import them from the package root. ``fastmf.load`` builds the classes
listed in ``__all__`` (``fastmf.io.model_classes``)."""
from .als import ALS
from .bpr import BPR
from .implicit_als import ImplicitALS
from .sgd import SGD

__all__ = ["ALS", "BPR", "ImplicitALS", "SGD"]
