"""Exceptions and warnings raised by fastmf."""


class FastMFError(Exception):
    """Base class of every error fastmf raises on its own account."""


class NotFittedError(FastMFError, ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""


class UnknownIdError(FastMFError, ValueError):
    """A raw user or item id was not in the training data where a known id is required."""


class ModelFitError(FastMFError, RuntimeError):
    """Training failed numerically (a singular system, a non-finite factor)."""


class ModelFileError(FastMFError, ValueError):
    """A model file cannot be loaded: it is damaged, not a fastmf model file, or written
    by a newer fastmf than this one."""


class DataNotFoundError(FastMFError, FileNotFoundError):
    """A data set is not available locally and could not be downloaded."""


class FastMFWarning(UserWarning):
    """Base class of fastmf's warnings."""
