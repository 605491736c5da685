"""The ``fastmf`` command line: train, evaluate, recommend, similar and demo.

Results go to stdout, progress bars to stderr. A user error (a missing file, an unknown
column or id, a damaged model file, a bad parameter) prints one line
``fastmf COMMAND: error: ...`` on stderr and exits with status 1; a malformed command
line exits with status 2 and argparse's usage message.
"""
import argparse
import os
import sys

from . import __version__
from ._commands import (_DATA_HELP, MODELS, _demo, _evaluate, _implicit_names, _recommend,
                        _similar, _train)
from .exceptions import FastMFError


def _parser():
    parser = argparse.ArgumentParser(
        prog="fastmf", description="Fast matrix factorization for recommender systems.")
    parser.add_argument("--version", action="version", version=f"fastmf {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_demo(commands)
    _add_train(commands, _data_options())
    _add_evaluate(commands, _data_options())
    _add_recommend(commands)
    _add_similar(commands)
    return parser


def _data_options():
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("reading DATA files")
    group.add_argument("--sep", default=None,
                       help="field separator (default: tab for .tsv/.tab/.data files, else ','; "
                            "'\\t' or 'tab' for a tab)")
    group.add_argument("--columns", default="0,1,2", metavar="USER,ITEM[,RATING[,TIMESTAMP]]",
                       help="the fields to read, by position from 0 (default 0,1,2) or by name "
                            "with --header; two fields mean implicit data (every value 1)")
    group.add_argument("--header", action="store_true", help="the first line names the fields")
    group.add_argument("--encoding", default="utf-8",
                       help="the file's text encoding (default utf-8; a byte-order mark is skipped)")
    group.add_argument("--id-dtype", choices=("auto", "str"), default="auto",
                       help="auto: ids that all read as integers are integers ('007' is 7); "
                            "str: ids stay text")
    group.add_argument("--duplicates", choices=("error", "last", "sum", "mean"), default="error",
                       help="how to combine repeated (user, item) pairs (default: error)")
    group.add_argument("--min-rating", type=float, default=None, metavar="R",
                       help="keep only ratings >= R, as implicit feedback (value 1); for "
                            "ranking models and metrics")
    return options


def _add_demo(commands):
    demo = commands.add_parser(
        "demo", help="train a model on a built-in data set and show what it learned (offline)",
        description="Train a model (ALS by default) on a built-in data set (synthetic "
                    "ratings shaped like MovieLens 100K, offline) and print the test RMSE, "
                    "the learning curve and top-5 recommendations for two users.")
    demo.add_argument("--model", choices=("als", "sgd", "implicit-als", "bpr"), default="als",
                      help="als: alternating least squares; sgd: Hogwild SGD (Funk SVD); "
                           "implicit-als, bpr: ratings >= 4 as implicit feedback, ranked by "
                           "implicit ALS or by Bayesian personalized ranking")
    demo.add_argument("--data", default="synthetic",
                      help="'synthetic' (default, offline) or 'movielens:100k' (read from "
                           "FASTMF_DATA or downloaded once)")
    demo.add_argument("--factors", type=int, default=64)
    demo.add_argument("--iterations", type=int, default=None,
                      help="iterations (ALS) or epochs (SGD, BPR); default: the model's own")
    demo.add_argument("--threads", type=int, default=0, help="0 = all cores")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(run=_demo)


def _add_train(commands, data_options):
    train = commands.add_parser(
        "train", parents=[data_options], help="train a model on DATA and save it",
        description="Train a model on DATA, print its metrics on a held-out part and save "
                    "it to one .npz file (read by the other commands and fastmf.load). "
                    f"The implicit-feedback models ({', '.join(_implicit_names())}) take "
                    "rating values as counts (ImplicitALS: confidence 1 + alpha * value); "
                    "--min-rating 4 turns the ratings >= 4 into positives of value 1 instead.")
    train.add_argument("data", metavar="DATA", help=_DATA_HELP)
    train.add_argument("--model", choices=tuple(MODELS), default="als",
                       help="default: als")
    train.add_argument("--output", "-o", required=True, metavar="MODEL.npz",
                       help="the model file to write")
    train.add_argument("--factors", type=int, default=None, help="default: the model's own")
    train.add_argument("--iterations", type=int, default=None,
                       help="iterations (ALS) or epochs (SGD, BPR); default: the model's own")
    train.add_argument("--regularization", type=float, default=None,
                       help="default: the model's own")
    train.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="any other parameter of the model class, e.g. alpha=2.0, "
                            "learning_rate=0.01 or item_features=genres (repeatable)")
    train.add_argument("--seed", type=int, default=0,
                       help="seed of the split and of the model (default 0)")
    train.add_argument("--threads", type=int, default=0, help="0 = all cores (default)")
    train.add_argument("--test-size", type=float, default=0.2, metavar="FRACTION",
                       help="share of the ratings held out for the metrics (default 0.2; "
                            "0 trains on everything)")
    train.add_argument("--test-output", metavar="FILE.csv", default=None,
                       help="write the held-out ratings to this CSV file "
                            "(user,item,rating rows), for fastmf evaluate")
    train.add_argument("--plot", metavar="CURVE.png", default=None,
                       help="draw the learning curve into this image (needs matplotlib)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    cluster = train.add_argument_group(
        "training on a Dask cluster (als and implicit-als; pip install \"fastmf[dask]\")",
        "DATA is read here and cut into blocks for the workers; the model equals the one "
        "trained on this machine. --threads is then per task (0: the worker's threads).")
    where = cluster.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="the scheduler of a running cluster, e.g. tcp://10.0.0.5:8786")
    where.add_argument("--dask-workers", type=int, default=None, metavar="N",
                       help="start a local cluster of N worker processes for this run")
    train.set_defaults(run=_train)


def _add_evaluate(commands, data_options):
    evaluate = commands.add_parser(
        "evaluate", parents=[data_options], help="score a saved model on DATA",
        description="Print the metrics of a saved model on DATA. Rating metrics compare "
                    "predictions with every rating of DATA (unknown users and items get "
                    "the model's fallback prediction). Ranking metrics take the items of "
                    "each user in DATA as relevant and never rank the user's training "
                    "items, which the model file records (or those of --train).")
    evaluate.add_argument("model_file", metavar="MODEL.npz")
    evaluate.add_argument("data", metavar="DATA", help=_DATA_HELP)
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


def _add_recommend(commands):
    recommend = commands.add_parser(
        "recommend", help="recommend items to users of a saved model",
        description="The best items for each user, best first, as a table, CSV or JSON; "
                    "items the user rated in training are left out (--include-seen keeps "
                    "them).")
    recommend.add_argument("model_file", metavar="MODEL.npz")
    recommend.add_argument("--user", action="append", default=[], metavar="ID",
                           help="a user id (repeatable)")
    recommend.add_argument("--users-file", metavar="FILE",
                           help="a file of user ids, one per line ('-': standard input)")
    recommend.add_argument("-n", type=int, default=10, help="items per user (default 10)")
    recommend.add_argument("--include-seen", action="store_true",
                           help="also recommend items the user rated in training")
    recommend.add_argument("--format", choices=("table", "csv", "json"), default="table")
    recommend.set_defaults(run=_recommend)


def _add_similar(commands):
    similar = commands.add_parser(
        "similar", help="items similar to an item of a saved model",
        description="The items whose factors are closest to the item's in cosine "
                    "similarity, most similar first.")
    similar.add_argument("model_file", metavar="MODEL.npz")
    similar.add_argument("--item", action="append", required=True, metavar="ID",
                         help="an item id (repeatable)")
    similar.add_argument("-n", type=int, default=10, help="items per item (default 10)")
    similar.add_argument("--format", choices=("table", "csv", "json"), default="table")
    similar.set_defaults(run=_similar)


# -- reading data ------------------------------------------------------------------------



# -- entry point --------------------------------------------------------------------------
def main(argv=None, out=None):
    """Entry point of the ``fastmf`` command; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``fastmf``; default: ``sys.argv[1:]``.
    out : file, optional
        Where results are printed; default: ``sys.stdout``.

    Returns
    -------
    int
        0 on success, 1 on an error (reported in one line on stderr), 130 when
        interrupted; a malformed command line exits with status 2 instead.

    Examples
    --------
    >>> import io, tempfile
    >>> from fastmf.cli import main
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     status = main(["train", "synthetic:2000", "--iterations", "2", "--factors", "4",
    ...                    "--quiet", "--output", f"{folder}/model.npz"], out=io.StringIO())
    ...     printed = io.StringIO()
    ...     status += main(["recommend", f"{folder}/model.npz", "--user", "3", "-n", "2",
    ...                     "--format", "csv"], out=printed)
    >>> status, printed.getvalue().splitlines()[0]
    (0, 'user,rank,item,score,title')
    """
    out = sys.stdout if out is None else out
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(out)
        return 0
    try:
        return args.run(args, out)
    except KeyError as err:          # the message of a KeyError is its first argument
        print(f"fastmf {args.command}: error: {err.args[0] if err.args else err}", file=sys.stderr)
    except (FastMFError, ValueError, TypeError, OSError, ImportError, MemoryError) as err:
        if isinstance(err, BrokenPipeError) and out is sys.stdout:
            # The reader went away (fastmf recommend ... | head): stop quietly.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        print(f"fastmf {args.command}: error: {err}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
