"""The model classes of ``--model``, by name, and which of them fit ratings."""
from .. import ALS, BPR, SGD, ImplicitALS

# Model names of --model; a new model class is one more entry.
MODELS = {"als": ALS, "sgd": SGD, "implicit-als": ImplicitALS, "bpr": BPR}


def implicit_names():
    """The --model names of the implicit-feedback models."""
    return [name for name, cls in MODELS.items() if not is_explicit(cls)]


def is_explicit(model_or_class):
    """Whether a model or model class fits ratings (rather than implicit feedback)."""
    return model_or_class._task == "rating"
