"""Studies of fastmf's own quality on MovieLens 100K, run from the repository root with
``python -m bench.studies.<name>``: ``tune_movielens`` (the README's settings, chosen on
the training part), ``cv_movielens`` (5-fold CV beside Surprise), ``features_movielens``
(genre features and cold items) and ``foldin_bpr`` (BPR's fold-in).
"""
