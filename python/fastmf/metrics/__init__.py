"""Metrics: rating accuracy (:func:`rmse`, :func:`mae`) and ranking quality.

The ranking metrics score top-k lists against held-out relevant items
(:func:`precision_at_k`, :func:`recall_at_k`, :func:`ndcg_at_k`, :func:`map_at_k`), whole
score matrices by ROC AUC (:func:`auc`) and the spread of the recommendations
(:func:`catalog_coverage`). :func:`evaluate` computes them all for a fitted model on test
interactions, in batches of users; :data:`METRICS` names the ones it accepts.
"""
from ._accuracy import mae, rmse
from ._auc import auc
from ._evaluate import METRICS, evaluate
from ._ranking import catalog_coverage, map_at_k, ndcg_at_k, precision_at_k, recall_at_k

__all__ = ["METRICS", "auc", "catalog_coverage", "evaluate", "mae", "map_at_k", "ndcg_at_k",
           "precision_at_k", "recall_at_k", "rmse"]

# The functions are documented and pickled as fastmf.metrics.NAME, where users import them.
for _function in (auc, catalog_coverage, evaluate, mae, map_at_k, ndcg_at_k, precision_at_k,
                  recall_at_k, rmse):
    _function.__module__ = __name__
del _function
