"""Model selection: splits of interactions into training and test parts (``_split``),
cross-validation and grid search on them (``_search``), and the tuner (``_tune``, its
search spaces in ``_space``)."""
from ._search import LOWER_IS_BETTER, CVResults, GridSearch, cross_validate
from ._space import DEFAULT_SPACES, default_space
from ._result import TuneResult
from ._tune import tune, tune_function
from ._split import STRATEGIES, UserSplit, cold_start_split, k_fold, train_test_split, user_split

__all__ = ["CVResults", "GridSearch", "LOWER_IS_BETTER", "STRATEGIES", "cold_start_split",
           "cross_validate", "k_fold", "train_test_split", "UserSplit", "user_split",
           "DEFAULT_SPACES", "TuneResult", "default_space", "tune", "tune_function"]
