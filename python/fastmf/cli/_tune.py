"""fastmf tune: search a model's parameters on a validation part of DATA, refit the best on
all of it and save it."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..metrics import METRICS as RANKING_METRICS
from ..metrics._accuracy import RATING_METRICS
from ._data import DATA_HELP, read_data
from ._models import add_model_option, checked_options, chosen_model, implicit_names
from ._train import _check_writable, _final_metrics, check_test_size, held_out, split_line

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any, TextIO

    from .._typing import AnyModel, Space


def add_tune(commands: argparse._SubParsersAction[argparse.ArgumentParser],
             data_options: argparse.ArgumentParser) -> None:
    tune = commands.add_parser(
        "tune", parents=[data_options], help="tune a model's parameters on DATA and save the best",
        description="Search a model's parameters (fastmf.tune): candidates are drawn from a "
                    "search space and scored on a validation part carved out of DATA (a share "
                    "of each user's ratings); successive halving over the iterations spends "
                    "the budget on many short fits and a few full ones, then random steps "
                    "from the best candidate refine it. The best parameters "
                    "are fitted on all of DATA (less --test-size) and saved. Every trial "
                    "is printed, best first; a candidate whose fit or scoring fails (a "
                    "failed Cholesky, a divergence) is a failed trial, listed last with its "
                    "error, and the search goes on.")
    tune.add_argument("data", metavar="DATA", help=DATA_HELP)
    add_model_option(tune)
    tune.add_argument("--output", "-o", required=True, metavar="MODEL.npz",
                      help="the model file to write (the best parameters, refitted)")
    tune.add_argument("--budget", type=int, default=16,
                      help="the search's cost in full fits (default 16)")
    tune.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                      help="start no new fit after this many seconds")
    tune.add_argument("--strategy", choices=("halving", "random"), default="halving",
                      help="default: halving")
    tune.add_argument("--refine", type=float, default=0.5, metavar="SHARE",
                      help="share of the budget spent refining the best candidate by random "
                           "steps (default 0.5; 0: none)")
    tune.add_argument("--space", action="append", default=[], metavar="NAME=SPEC",
                      help="a parameter to search instead of the model's default space "
                           "(repeatable): NAME=LOW:HIGH (uniform), NAME=LOW:HIGH:log "
                           "(log-uniform) or NAME=A,B,C (one of these values)")
    tune.add_argument("--metric", default=None,
                      help="what best means: rmse or mae (default rmse for als and sgd), or "
                           f"a ranking metric at --k among {', '.join(RANKING_METRICS[:4])} "
                           f"(default ndcg for {' and '.join(implicit_names())})")
    tune.add_argument("--k", type=int, default=10, help="cut-off of the ranking metric")
    tune.add_argument("--validation", type=float, default=0.2, metavar="FRACTION",
                      help="share of each user's ratings the candidates are scored on "
                           "(default 0.2)")
    tune.add_argument("--test-size", type=float, default=0.0, metavar="FRACTION",
                      help="hold out this share of DATA first and print the refitted "
                           "model's metrics on it (default 0: tune and refit on all of DATA)")
    tune.add_argument("--factors", type=int, default=None, help="default: the model's own")
    tune.add_argument("--iterations", type=int, default=None,
                      help="the full fit's iterations (ALS) or epochs (SGD, BPR)")
    tune.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                      help="any other fixed parameter of the model class (repeatable)")
    tune.add_argument("--seed", type=int, default=0,
                      help="seed of the splits, the candidates and the model (default 0)")
    tune.add_argument("--threads", type=int, default=0, help="0 = all cores (default)")
    tune.add_argument("--quiet", action="store_true", help="no progress bar")
    tune.set_defaults(run=_tune, regularization=None)


def _tune(args: argparse.Namespace, out: TextIO) -> int:
    from .. import ALS, ImplicitALS, tune
    cls, model = checked_options(args)
    _space(args.space, (cls,) if cls is not None else (ALS, ImplicitALS))
    if args.metric is not None and args.metric not in RATING_METRICS + RANKING_METRICS:
        raise ValueError(f"unknown --metric {args.metric!r}; choose among "
                         f"{', '.join(RATING_METRICS + RANKING_METRICS)}")
    check_test_size(args)
    _check_writable("--output", args.output)
    data = read_data(args.data, args)
    train, test = held_out(data, args)
    cls, model, chosen = chosen_model(args, data, cls, model)
    space = _space(args.space, (cls,)) or None
    split = split_line(train, test, "tuning on")
    print(f"data: {data.n_users} users, {data.n_items} items, {data.nnz} ratings "
          f"({args.data}){split}", file=out)
    if chosen:
        print(chosen, file=out)
    result = tune(model, train, budget=args.budget, time_budget=args.time_budget, space=space,
                  metric=args.metric, k=args.k, validation=args.validation,
                  strategy=args.strategy, refine=args.refine, seed=args.seed,
                  verbose=not args.quiet)
    print(result.to_string(max_rows=None), file=out)
    print(f"the {result.metric} of each trial is on validation ({args.validation * 100:g}% of "
          f"each user's ratings in {'the training part' if test is not None else 'DATA'}); "
          f"the best parameters are refitted on all of "
          f"{'the training part' if test is not None else 'DATA'}", file=out)
    best = ", ".join(f"{name}={value!r}" for name, value in result.best_params.items())
    print(f"best: {best}", file=out)
    if test is not None:
        # tune refits (refit=True): best_model is set
        print(_final_metrics(result.best_model, train, test,  # type: ignore[arg-type]
                             f"test ({args.test_size * 100:g}% of DATA, never seen while "
                             f"tuning or fitting)"),
              file=out)
    print(f"model saved to {result.best_model.save(args.output)}",  # type: ignore[union-attr]
          file=out)
    return 0


def _space(texts: Sequence[str], classes: Sequence[type[AnyModel]]) -> Space:
    """{name: spec} of the --space options, each naming a parameter of one of ``classes``
    (both families before --model auto has chosen)."""
    names = list(dict.fromkeys(name for cls in classes for name in cls._param_names()))
    space: Space = {}
    for text in texts:
        name, equals, spec = text.partition("=")
        name = name.strip().replace("-", "_")
        if not equals or not name or not spec.strip():
            raise ValueError(f"--space must be NAME=LOW:HIGH[:log] or NAME=A,B,C, got {text!r}")
        if name not in names:
            owner = " nor ".join(cls.__name__ for cls in classes)
            raise ValueError(f"--space {name}: {'neither ' if len(classes) > 1 else ''}{owner} "
                             f"has {'a' if len(classes) > 1 else 'no'} parameter {name!r}; "
                             f"the parameters are {', '.join(names)}")
        if ":" in spec:
            parts = spec.split(":")
            log = len(parts) == 3 and parts[2].strip() == "log"
            if len(parts) not in (2, 3) or (len(parts) == 3 and not log):
                raise ValueError(f"--space {name}={spec}: a range is LOW:HIGH or LOW:HIGH:log")
            bounds = tuple(_value(part, name) for part in parts[:2])
            space[name] = bounds + ("log",) if log else bounds
        else:
            space[name] = [_value(part, name) for part in spec.split(",")]
    return space


def _value(text: str, name: str) -> Any:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip()       # a word such as cg or log
