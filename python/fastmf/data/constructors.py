"""The constructors of :class:`Interactions`: from arrays, a DataFrame, a delimited text
file and a scipy.sparse matrix (kept apart from interactions.py, the class itself)."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from .csr import DUPLICATE_POLICIES, _triples_to_csr
from .item_info import ItemInfo, _attached
from .readers import _read_csv, _sparse_triples

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, Literal, TypedDict, TypeVar

    import pandas as pd
    import scipy.sparse as sp
    from numpy.typing import ArrayLike, NDArray
    from typing_extensions import Unpack

    from .._typing import Duplicates, PathLike
    from .csr import Csr
    from .ids import IdMap

    _Self = TypeVar("_Self", bound="_Constructors")

    class _Options(TypedDict, total=False):
        """The keyword arguments that every constructor passes on to ``from_arrays``."""

        duplicates: Duplicates
        item_info: ItemInfo | PathLike | None


class _Constructors:
    """The ``from_*`` class methods of :class:`Interactions`."""

    if TYPE_CHECKING:
        def __init__(self, user_ids: IdMap, item_ids: IdMap, by_user: Csr,
                     timestamps: NDArray[Any] | None = None, item_info: ItemInfo | None = None
                     ) -> None: ...

    @classmethod
    def from_arrays(cls: type[_Self], users: ArrayLike, items: ArrayLike,
                    ratings: ArrayLike | None = None, timestamps: ArrayLike | None = None, *,
                    duplicates: Duplicates = "error", item_info: ItemInfo | PathLike | None = None
                    ) -> _Self:
        """Build from parallel arrays of raw user ids, raw item ids and ratings.

        Parameters
        ----------
        users, items : array-like of int or str
            Raw ids, one per rating: all integers or all strings (floats with integral
            values become int64).
        ratings : array-like of numbers, optional
            A finite value per pair; float32 stays float32, anything else becomes
            float64. None: implicit data, every value 1.0.
        timestamps : array-like of numbers or datetime64, optional
            A time per pair; integers and datetime64 are stored as int64, floats as given.
        duplicates : {"error", "last", "sum", "mean"}, default "error"
            What a repeated (user, item) pair does: raise ``ValueError``, keep its last
            occurrence (by input position), or add or average its values (keeping the
            latest timestamp).
        item_info : ItemInfo, str or path-like, optional
            Titles and genres (categories) to carry along (``item_info``): an
            :class:`ItemInfo`, or the path of an items file that :meth:`ItemInfo.from_csv`
            reads with its defaults, ids typed as the data's. Ids typed otherwise (the
            text "7" for the integer 7) are matched to the data's.

        Returns
        -------
        Interactions
            User and item indices follow the sorted order of the raw ids.

        Raises
        ------
        ValueError
            Lengths differ, the data is empty, a rating is NaN or infinite, an id is a
            non-integral float, (with ``duplicates="error"``) a pair repeats, or no item
            of the data is in ``item_info``.
        TypeError
            Ids are neither integers nor strings, ratings are not numeric, timestamps are
            neither numbers nor datetime64, or ``item_info`` is neither an ItemInfo nor a
            path.

        Examples
        --------
        >>> from fastmf import Interactions
        >>> data = Interactions.from_arrays(["ann", "bob", "ann"], ["x", "y", "x"], [5, 3, 4],
        ...                                 duplicates="mean")
        >>> data
        Interactions(2 users, 2 items, 2 ratings, float64)
        >>> data.ratings.tolist()
        [4.5, 3.0]
        >>> Interactions.from_arrays([1, 2], [7, 7]).ratings.tolist()   # implicit data
        [1.0, 1.0]
        >>> Interactions.from_arrays(["ann", "ann"], ["x", "x"], [5, 4])
        Traceback (most recent call last):
        ...
        ValueError: user 'ann' rated item 'x' more than once (first at position 0); ...
        """
        v.check_choice("duplicates", duplicates, DUPLICATE_POLICIES)
        if item_info is not None and not isinstance(item_info, (ItemInfo, str, os.PathLike)):
            raise TypeError(f"item_info must be a fastmf.ItemInfo or the path of an items file, "
                            f"got {type(item_info).__name__}")
        users, items = v.as_ids("users", users), v.as_ids("items", items)
        ratings = np.ones(len(users)) if ratings is None else v.as_ratings("ratings", ratings)
        if timestamps is not None:
            timestamps = v.as_1d("timestamps", timestamps)
            if timestamps.dtype.kind not in "iuf" and not np.issubdtype(timestamps.dtype, np.datetime64):
                raise TypeError(f"timestamps must be numbers or datetime64, got dtype {timestamps.dtype}")
            timestamps = timestamps.astype(np.int64) if timestamps.dtype.kind != "f" else timestamps
        v.check_same_length(users=users, items=items, ratings=ratings, timestamps=timestamps)
        v.check_not_empty("the data", users)
        user_ids, item_ids, by_user, timestamps = _triples_to_csr(users, items, ratings,
                                                                  timestamps, duplicates)
        return cls(user_ids, item_ids, by_user, timestamps, _attached(item_info, item_ids))

    @classmethod
    def from_dataframe(cls: type[_Self], df: pd.DataFrame, user_col: str = "user",
                       item_col: str = "item", rating_col: str | None = "rating",
                       timestamp_col: str | None = None, **kwargs: Unpack[_Options]) -> _Self:
        """Build from a pandas DataFrame, one row per rating.

        Parameters
        ----------
        df : pandas.DataFrame
        user_col, item_col : str, default "user", "item"
            The columns of raw user and item ids.
        rating_col : str or None, default "rating"
            The column of ratings; None for implicit data (every value 1.0).
        timestamp_col : str, optional
            A column of times (numbers or datetime64).
        **kwargs
            ``duplicates`` and ``item_info``, as for :meth:`from_arrays`.

        Returns
        -------
        Interactions

        Raises
        ------
        KeyError
            A named column is not in ``df``.
        ValueError, TypeError
            As for :meth:`from_arrays`.

        Examples
        --------
        >>> import pandas as pd
        >>> from fastmf import Interactions
        >>> df = pd.DataFrame({"user": ["ann", "bob"], "movie": ["x", "y"], "stars": [5, 3]})
        >>> Interactions.from_dataframe(df, item_col="movie", rating_col="stars")
        Interactions(2 users, 2 items, 2 ratings, float64)
        >>> Interactions.from_dataframe(df, item_col="movie", rating_col=None).ratings.tolist()
        [1.0, 1.0]
        """
        for col in (user_col, item_col, rating_col, timestamp_col):
            if col is not None and col not in df.columns:
                raise KeyError(f"column {col!r} not in the DataFrame; columns are {list(df.columns)}")
        column: Callable[[str | None], Any] = (  # noqa: E731
            lambda c: None if c is None else df[c].to_numpy())
        return cls.from_arrays(column(user_col), column(item_col), column(rating_col),
                               column(timestamp_col), **kwargs)

    @classmethod
    def from_csv(cls: type[_Self], path: PathLike, sep: str | None = None,
                 columns: Sequence[int | str | None] = (0, 1, 2), header: bool | None = None, *,
                 encoding: str = "utf-8", id_dtype: Literal["auto", "str"] = "auto",
                 **kwargs: Unpack[_Options]) -> _Self:
        """Read a delimited text file of user, item[, rating[, timestamp]] fields.

        The separator is detected from the first 100 lines unless ``sep`` is given: the
        first of '::' (MovieLens 1M's ``ratings.dat``), tab, ',', ';', '|' and runs of
        whitespace that splits every one of them into the same number of fields, two or
        more (a quoted field counts as one); else the first that splits each into two or
        more (a line with too few fields is then reported by number). When none does, a
        ``.csv`` file is read with ',' and a ``.tsv``, ``.tab`` or ``.data`` file with a
        tab; any other raises ``ValueError`` asking for ``sep``.

        Parameters
        ----------
        path : str or path-like
        sep : str, optional
            The field separator: one character (with quoting, as the csv module reads),
            a longer text such as '::' (lines are split on it, no quoting) or ``r"\\s+"``
            for runs of spaces and tabs. None (default): detected, as above.
        columns : sequence, default (0, 1, 2)
            The user, item, rating and (optional fourth) timestamp fields, by position,
            or by header name. A rating field of None means implicit data (every value
            1.0).
        header : bool, optional
            Whether the first line names the fields. None (default) detects it: the
            first line is a header when a column is given by name, or when its rating or
            timestamp is not a number (or, with ``id_dtype="auto"``, an id is not an
            integer) while those of the next 20 lines are. A header of text ids cannot be
            told from data by type: it is taken as one only when both id fields are
            column names such as ``user``, ``user_id``, ``item`` or ``movieId``; pass
            ``header=True`` for any other.
        encoding : str, default "utf-8"
            The file's text encoding; a UTF-8 byte-order mark at its start is skipped.
        id_dtype : {"auto", "str"}, default "auto"
            "auto": a column whose every id reads as an integer becomes int64 ids, so
            "007" and "7" are the same id (a warning says so when that merges ids);
            "str": ids stay text as written.
        **kwargs
            ``duplicates`` and ``item_info`` (an :class:`ItemInfo` or the path of an items
            file), as for :meth:`from_arrays`.

        Returns
        -------
        Interactions
            Fields are stripped of surrounding spaces; blank lines are skipped.

        Raises
        ------
        FileNotFoundError
            ``path`` does not exist.
        KeyError
            A named column is not in the header.
        ValueError
            The separator cannot be detected, ``columns`` does not list 2 to 4 fields, a
            line has too few fields or is not text in ``encoding``, a rating or timestamp
            is not a number (the message names the line, and suggests ``header=True`` for
            the first), the file holds no data rows, or as for :meth:`from_arrays`.
        TypeError
            ``header`` is not True, False or None, or a column is neither a position nor
            a name.

        Examples
        --------
        >>> import os, tempfile
        >>> from fastmf import Interactions
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = os.path.join(folder, "ratings.csv")
        ...     with open(path, "w") as handle:
        ...         _ = handle.write("user,item,stars\\n1,10,4.5\\n1,11,3\\n2,10,5\\n")
        ...     data = Interactions.from_csv(path, columns=("user", "item", "stars"))
        ...     dat = os.path.join(folder, "ratings.dat")
        ...     with open(dat, "w") as handle:
        ...         _ = handle.write("1::1193::5::978300760\\n1::661::3::978302109\\n")
        ...     movielens = Interactions.from_csv(dat, columns=(0, 1, 2, 3))
        >>> data
        Interactions(2 users, 2 items, 3 ratings, float64)
        >>> data.user_ids.ids.tolist(), data.ratings.tolist()
        ([1, 2], [4.5, 3.0, 5.0])
        >>> movielens.items.tolist(), movielens.timestamps.tolist()
        ([661, 1193], [978302109, 978300760])
        """
        users, items, ratings, timestamps = _read_csv(path, sep, columns, header, encoding,
                                                      id_dtype)
        return cls.from_arrays(users, items, ratings, timestamps, **kwargs)

    @classmethod
    def from_sparse(cls: type[_Self], matrix: sp.spmatrix | sp.sparray,
                    user_ids: ArrayLike | None = None, item_ids: ArrayLike | None = None,
                    **kwargs: Unpack[_Options]) -> _Self:
        """Build from a scipy.sparse users × items matrix of ratings.

        Every stored entry is a rating, explicit zeros included; a row or column with no
        stored entry gets no id in the result.

        Parameters
        ----------
        matrix : scipy.sparse matrix or sparse array
            Rows are users, columns items.
        user_ids, item_ids : array-like of int or str, optional
            Raw ids of the rows and columns; by default 0..n-1.
        **kwargs
            ``duplicates`` and ``item_info``, as for :meth:`from_arrays` (a COO matrix
            may store a pair more than once).

        Returns
        -------
        Interactions

        Raises
        ------
        TypeError
            ``matrix`` is not a scipy.sparse matrix.
        ValueError
            The matrix is malformed, or ``user_ids``/``item_ids`` do not match its shape.

        Examples
        --------
        >>> import scipy.sparse as sp
        >>> from fastmf import Interactions
        >>> matrix = sp.csr_matrix([[5.0, 0.0, 3.0], [0.0, 0.0, 0.0], [0.0, 4.0, 0.0]])
        >>> data = Interactions.from_sparse(matrix, user_ids=["ann", "bob", "cid"])
        >>> data
        Interactions(2 users, 3 items, 3 ratings, float64)
        >>> data.user_ids.ids.tolist(), data.items.tolist()
        (['ann', 'cid'], [0, 2, 1])
        """
        return cls.from_arrays(*_sparse_triples(matrix, user_ids, item_ids), **kwargs)
