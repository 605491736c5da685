"""The ``fastmf`` command line: train, tune, evaluate, recommend, similar and demo.

Results go to stdout, progress bars to stderr. A user error (a missing file, an unknown
column or id, a damaged model file, a bad parameter) prints one line
``fastmf COMMAND: error: ...`` on stderr and exits with status 1; a malformed command
line exits with status 2 and argparse's usage message.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from .. import __version__
from ..exceptions import FastMFError
from ._data import data_options
from ._demo import add_demo
from ._evaluate import add_evaluate
from ._models import MODELS
from ._recommend import add_recommend, add_similar
from ._train import add_train
from ._tune import add_tune

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TextIO

__all__ = ["MODELS", "main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastmf", description="Fast matrix factorization for recommender systems.")
    parser.add_argument("--version", action="version", version=f"fastmf {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_demo(commands)
    add_train(commands, data_options())
    add_tune(commands, data_options())
    add_evaluate(commands, data_options())
    add_recommend(commands)
    add_similar(commands)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
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
