"""fastmf evaluate: score a saved model on DATA."""
from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import numpy as np

from ..metrics import METRICS as RANKING_METRICS
from ..metrics._accuracy import RATING_METRICS
from ._data import DATA_HELP, read_data
from ._models import is_explicit

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import TextIO

    from .._typing import AnyModel
    from ..data import Interactions

    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def add_evaluate(commands: Commands, data_options: argparse.ArgumentParser) -> None:
    evaluate = commands.add_parser(
        "evaluate", parents=[data_options], help="score a saved model on DATA",
        description="Print the metrics of a saved model on DATA. Rating metrics compare "
                    "predictions with every rating of DATA (unknown users and items get "
                    "the model's fallback prediction). Ranking metrics take the items of "
                    "each user in DATA as relevant and never rank the user's training "
                    "items, which the model file records (or those of --train).")
    evaluate.add_argument("model_file", metavar="MODEL.npz")
    evaluate.add_argument("data", metavar="DATA", help=DATA_HELP)
    evaluate.add_argument("--metrics", default=None, metavar="NAMES",
                          help="comma-separated among rmse, mae, precision, recall, ndcg, "
                               "map, auc, coverage (default: rmse,mae for ALS and SGD, "
                               "precision,recall,ndcg,map,auc for implicit models)")
    evaluate.add_argument("--k", type=int, default=10, help="cut-off of the ranking metrics")
    evaluate.add_argument("--train", metavar="DATA", default=None,
                          help="training data (read with the same options as DATA) whose "
                               "items are left out of each user's ranking; default: the "
                               "training items recorded in the model file")
    evaluate.add_argument("--format", choices=("table", "json"), default="table")
    evaluate.set_defaults(run=_evaluate)



def _evaluate(args: argparse.Namespace, out: TextIO) -> int:
    from .. import load, metrics
    model = load(args.model_file)
    names = _metric_names(args.metrics, is_explicit(model))
    accuracy = [name for name in names if name in RATING_METRICS]
    ranking = [name for name in names if name in RANKING_METRICS]
    if accuracy and not is_explicit(model):
        raise ValueError(f"{accuracy[0]} compares predicted ratings, which {type(model).__name__} "
                         f"does not make; use ranking metrics ({', '.join(RANKING_METRICS)})")
    if accuracy and args.min_rating is not None:
        raise ValueError(f"--min-rating replaces ratings by 1, so {accuracy[0]} cannot be "
                         f"computed; leave it out or ask for ranking metrics only")
    data = read_data(args.data, args)
    results = {}
    if accuracy:
        predicted = model.predict(data.users, data.items)
        for name in accuracy:
            results[name] = getattr(metrics, name)(data.ratings, predicted)
        known = ((model.user_ids_.index(data.user_ids.ids)[data.uidx] >= 0)
                 & (model.item_ids_.index(data.item_ids.ids)[data.iidx] >= 0))
        results["ratings"], results["ratings_unknown"] = data.nnz, int((~known).sum())
    if ranking:
        train = read_data(args.train, args) if args.train else _training_items(model)
        results.update(metrics.evaluate(model, data, train=train, k=args.k, metrics=ranking))
    if args.format == "json":
        nan_as_null = {name: None if isinstance(value, float) and math.isnan(value) else value
                       for name, value in results.items()}
        print(json.dumps(nan_as_null, indent=2), file=out)
    else:
        width = max(map(len, results))
        for name, value in results.items():
            print(f"{name:<{width}}  {value:.4f}" if isinstance(value, float)
                  else f"{name:<{width}}  {value}", file=out)
    return 0


def _metric_names(text: str | None, explicit: bool) -> Sequence[str]:
    if text is None:
        return RATING_METRICS if explicit else RANKING_METRICS[:-1]
    names = list(dict.fromkeys(name.strip().lower() for name in text.split(",") if name.strip()))
    known = RATING_METRICS + RANKING_METRICS
    for name in names or [""]:
        if name not in known:
            raise ValueError(f"unknown metric {name!r} in --metrics; choose among "
                             f"{', '.join(known)}")
    return names


def _training_items(model: AnyModel) -> Interactions | None:
    """The model's record of each user's training items, as Interactions (or None)."""
    from ..data import Csr, Interactions
    seen = getattr(model, "_seen", None)
    if seen is None:
        return None
    indptr, indices = seen
    shape = (len(model.user_ids_), len(model.item_ids_))
    return Interactions(model.user_ids_, model.item_ids_,
                        Csr(indptr, indices, np.ones(len(indices)), shape))


