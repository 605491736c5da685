"""Plots of fitted models (``fastmf.plot``): learning curves and item factors in 2-D.

matplotlib is optional: install it with ``pip install "fastmf-recsys[plot]"``. It is imported
when a plot is drawn, not when fastmf is, and every function draws into the Axes it is
given (``ax=``) or into a new figure of ``matplotlib.pyplot``, and returns that Axes.
Without a display, matplotlib draws with its Agg backend, so plots can be saved with
``ax.figure.savefig("curve.png")`` on a server too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._optional import require

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from types import ModuleType
    from typing import Any, Literal, NoReturn

    from matplotlib.axes import Axes
    from numpy.typing import ArrayLike, NDArray

    from ._typing import AnyModel, Float64Array

    #: A ``history_``: a dict per iteration.
    History = Sequence[Mapping[str, float]]
    #: A box (x0, y0, x1, y1), in points.
    Box = tuple[float, float, float, float]

# history_ keys that are not metrics of the model's quality (the loss is, but on its own
# scale: it is drawn only when asked for, or when a history has nothing else).
_NOT_METRICS = ("iteration", "seconds", "learning_rate", "loss")
_LINE_STYLES = ("-", "--", ":", "-.")


def _pyplot() -> ModuleType:
    return require("matplotlib.pyplot", "fastmf.plot")


def _axes(ax: Axes | None) -> Axes:
    return _pyplot().subplots()[1] if ax is None else ax


def learning_curve(models_or_histories: AnyModel | History | Sequence[AnyModel | History],
                   metrics: str | Sequence[str] | None = None, ax: Axes | None = None,
                   labels: Sequence[str] | None = None) -> Axes:
    """Plot metrics per iteration, from the ``history_`` of one or several fitted models.

    Each run gets one color; each metric of a run one line style (the training metric
    solid, the validation metric dashed, in the order of ``metrics``).

    Parameters
    ----------
    models_or_histories : model, history, or a sequence of them
        A fitted fastmf model (its ``history_`` is read), a history (a list of dicts with
        an ``"iteration"`` key and metric values, as in ``history_``), or a list of such
        models and histories, drawn on the same Axes.
    metrics : str or sequence of str, optional
        ``history_`` keys to draw, e.g. ``["train_rmse", "val_rmse"]``. Default: every
        recorded metric except the loss (``train_rmse`` and ``val_rmse`` for ALS and
        SGD; ``val_precision@10`` and ``val_ndcg@10`` for ImplicitALS fitted with
        validation data), or the loss when nothing else was recorded.
    ax : matplotlib Axes, optional
        Where to draw; default: a new figure.
    labels : sequence of str, optional
        A name per run for the legend; default: the model class names (numbered when
        they repeat) and "history 1", "history 2", ... for plain histories.

    Returns
    -------
    matplotlib.axes.Axes
        With one line per run and metric found in that run, labelled in the legend.

    Raises
    ------
    ValueError
        If a model is not fitted, a history is empty, a metric is in none of the runs,
        or ``labels`` does not have a name per run.
    ImportError
        If matplotlib is not installed.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.make_ratings(200, 100, 3000, seed=0)
    >>> train, test = fastmf.train_test_split(data, test_size=0.2, seed=0)
    >>> model = fastmf.ALS(factors=8, iterations=5, seed=0, verbose=False)
    >>> model = model.fit(train, validation=test)
    >>> ax = fastmf.plot.learning_curve(model)
    >>> [line.get_label() for line in ax.get_lines()]
    ['train_rmse', 'val_rmse']
    >>> import tempfile, matplotlib.pyplot as plt
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     ax.figure.savefig(f"{folder}/curve.png")
    >>> plt.close(ax.figure)
    """
    runs = _runs(models_or_histories)
    if labels is not None:
        labels = [str(label) for label in labels]
        if len(labels) != len(runs):
            raise ValueError(f"labels must give a name per run: {len(runs)} runs, got "
                             f"{len(labels)} labels")
    else:
        labels = _default_labels([name for name, _ in runs])
    metrics = _curve_metrics([history for _, history in runs], metrics)
    ax = _axes(ax)
    for r, (label, (_, history)) in enumerate(zip(labels, runs)):
        x = [record.get("iteration", position + 1) for position, record in enumerate(history)]
        for m, metric in enumerate(metrics):
            if not any(metric in record for record in history):
                continue
            y = [record.get(metric, np.nan) for record in history]
            if len(runs) == 1:
                name = metric
            else:
                name = label if len(metrics) == 1 else f"{label}: {metric}"
            ax.plot(x, y, color=f"C{r % 10}", linestyle=_LINE_STYLES[m % len(_LINE_STYLES)],
                    marker="o" if len(x) <= 30 else None, markersize=3, label=name)
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("iteration")
    ax.set_ylabel(" / ".join(dict.fromkeys(_strip_side(m) for m in metrics)))
    if len(runs) == 1:
        ax.set_title(labels[0])
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def _runs(obj: object) -> list[tuple[str | None, list[Mapping[str, float]]]]:
    """[(default name or None, history)] of a model, a history, or a sequence of them."""
    if _is_history(obj) or hasattr(obj, "fit"):
        obj = [obj]
    if isinstance(obj, (str, bytes, dict)) or not hasattr(obj, "__iter__"):
        raise TypeError(f"models_or_histories must be a fitted model, a history (a list of "
                        f"dicts) or a list of them, got {type(obj).__name__}")
    runs = [_run(item) for item in obj]
    if not runs:
        raise ValueError("models_or_histories is empty; give at least one model or history")
    return runs


def _is_history(obj: object) -> bool:
    return isinstance(obj, (list, tuple)) and len(obj) > 0 and all(isinstance(r, dict) for r in obj)


def _run(item: Any) -> tuple[str | None, list[Mapping[str, float]]]:
    if _is_history(item):
        return None, list(item)
    if hasattr(item, "fit"):
        history = getattr(item, "history_", None)
        if history is None:
            raise ValueError(f"this {type(item).__name__} is not fitted yet, so it has no "
                             f"history_; call fit() first")
        if not history:
            raise ValueError(f"this {type(item).__name__} has an empty history_ (no "
                             f"iteration was completed)")
        return type(item).__name__, list(history)
    raise TypeError(f"expected a fitted model or a history (a non-empty list of dicts), got "
                    f"{item!r:.60}")


def _default_labels(names: list[str | None]) -> list[str]:
    counts = {name: names.count(name) for name in names if name is not None}
    seen: dict[str, int]
    labels: list[str]
    seen, labels, plain = {}, [], 0
    for name in names:
        if name is None:
            plain += 1
            labels.append(f"history {plain}")
        elif counts[name] > 1:
            seen[name] = seen.get(name, 0) + 1
            labels.append(f"{name} {seen[name]}")
        else:
            labels.append(name)
    return labels


def _curve_metrics(histories: Iterable[History], metrics: str | Sequence[str] | None
                   ) -> list[str]:
    recorded = list(dict.fromkeys(key for history in histories for record in history
                                  for key in record))
    if metrics is None:
        metrics = [key for key in recorded if key not in _NOT_METRICS]
        return metrics or [key for key in recorded if key == "loss"] or _no_metric(recorded)
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not metrics:
        raise ValueError("metrics is empty; name at least one history_ key, or pass None")
    missing = [m for m in metrics if m not in recorded]
    if missing:
        raise ValueError(f"metric {missing[0]!r} is not in any history; recorded: "
                         f"{', '.join(recorded)}")
    return metrics


def _no_metric(recorded: list[str]) -> NoReturn:
    raise ValueError(f"the histories record no metric to plot (keys: {', '.join(recorded)})")


def _strip_side(metric: str) -> str:
    for prefix in ("train_", "val_"):
        if metric.startswith(prefix):
            return metric[len(prefix):]
    return metric


def item_factors_2d(model: AnyModel, items: ArrayLike | None = None,
                    labels: Literal["title", "id"] | Sequence[str] = "title",
                    ax: Axes | None = None) -> Axes:
    """Plot every item's factors projected on their first two principal components.

    The item factors Y (one row per item) are centred, Y - mean, and projected on the
    first two right singular vectors of that matrix (``numpy.linalg.svd``): the 2-D
    picture that keeps the most of their variance. The signs of the two components are
    fixed so that each one's largest loading is positive. Items with similar factors,
    which the model scores alike, land close together. All items are drawn as small grey
    points; the chosen ``items`` are highlighted and labelled.

    Parameters
    ----------
    model : fitted model
        Any fastmf model with at least two factors.
    items : sequence of raw item ids, optional
        The items to highlight and label; default: the 10 items farthest from the centre
        of the projection, the ones that show what its directions mean.
    labels : "title", "id" or sequence of str, default "title"
        ``"title"``: the titles in the model's ``item_info_`` (MovieLens titles, say), or
        the ids when it has none; ``"id"``: the raw ids; or a text per chosen item.
    ax : matplotlib Axes, optional
        Where to draw; default: a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections[0]`` holds the projections of all items (in ``item_ids_``
        order), ``ax.collections[1]`` those of the chosen items; ``ax.texts`` the labels.
        The axis labels give each component's share of the variance.

    Raises
    ------
    NotFittedError
        If the model is not fitted.
    UnknownIdError
        If an item of ``items`` was not in the training data.
    ValueError
        If the model has fewer than two factors or two items, or ``labels`` is invalid.
    ImportError
        If matplotlib is not installed.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.toy()
    >>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
    >>> ax = fastmf.plot.item_factors_2d(model, items=["Sholay", "Batman"])
    >>> [text.get_text() for text in ax.texts]
    ['Sholay', 'Batman']
    >>> ax.collections[0].get_offsets().shape             # all five movies
    (5, 2)
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    model._check_is_fitted()
    Y = np.asarray(model.item_factors_, dtype=np.float64)
    if Y.ndim != 2 or Y.shape[1] < 2 or Y.shape[0] < 2:
        raise ValueError(f"a 2-D projection needs at least two factors and two items; the "
                         f"model has {Y.shape[1]} factors and {Y.shape[0]} items")
    coords, share = _pca_2d(Y)
    if items is None:
        chosen = np.argsort(-np.hypot(coords[:, 0], coords[:, 1]), kind="stable")[:10]
    else:
        chosen = model._known("item", items, "items")
    texts = _item_labels(model, chosen, labels)
    ax = _axes(ax)
    ax.scatter(coords[:, 0], coords[:, 1], s=6, color="0.75", label="items")
    ax.scatter(coords[chosen, 0], coords[chosen, 1], s=24, color="C0")
    _annotate_apart(ax, coords[chosen], texts, fontsize=8)
    ax.set_xlabel(f"component 1 ({share[0]:.0%} of the variance)")
    ax.set_ylabel(f"component 2 ({share[1]:.0%} of the variance)")
    ax.set_title(f"{type(model).__name__} item factors in two dimensions")
    return ax


# Where a label may sit, in points from its point: ever farther, round the point.
_LABEL_DIRECTIONS = ((1, 0.6), (1, -1.4), (-1, 0.6), (-1, -1.4), (0.5, 1.6), (0.5, -2.4),
                     (-0.5, 1.6), (-0.5, -2.4))
_LABEL_RADII = (4, 10, 18, 28, 40)


def _annotate_apart(ax: Axes, points: Float64Array, texts: Sequence[str], fontsize: float
                    ) -> None:
    """Label each point with its text where the label overlaps no label placed before it
    (nor its own point) and stays inside the axes: the first such place among a few ever
    farther round the point, or the least overlapped one; a label away from its point gets
    a thin line to it. Label
    boxes are estimated from the font size (0.62 em a character), so placing them needs
    no renderer."""
    ax.autoscale_view()
    to_points = ax.transData + ax.figure.dpi_scale_trans.inverted()   # data -> inches
    (ax0, ay0), (ax1, ay1) = (ax.transAxes + ax.figure.dpi_scale_trans.inverted()).transform(
        [(0, 0), (1, 1)]) * 72
    placed: list[Box] = []                       # boxes (x0, y0, x1, y1) in points
    for (x, y), text in zip(points, texts):
        px, py = to_points.transform((x, y)) * 72
        width, height = 0.62 * fontsize * max(len(text), 1), 1.2 * fontsize
        # (cost, offset, box, left of the point): set by the first place tried
        best: tuple[tuple[float, float], tuple[float, float], Box, bool]
        best = None  # type: ignore[assignment]
        for radius in _LABEL_RADII:
            for dx, dy in _LABEL_DIRECTIONS:
                ox, oy = dx * radius, dy * radius * 0.6
                x0 = px + ox - (width if dx < 0 else 0)
                y0 = py + oy
                box = (x0, y0, x0 + width, y0 + height)
                clash = sum(_overlap(box, other) for other in placed)
                outside = width * height - _overlap(box, (ax0, ay0, ax1, ay1))
                cost = (clash, outside)              # apart from the others first, then inside
                if best is None or cost < best[0]:
                    best = (cost, (ox, oy), box, dx < 0)
                if cost == (0, 0):
                    break
            if best[0] == (0, 0):
                break
        _, (ox, oy), box, left = best
        placed.append(box)
        far = abs(ox) > _LABEL_RADII[0] or abs(oy) > _LABEL_RADII[0]
        ax.annotate(text, (x, y), xytext=(ox, oy), textcoords="offset points", fontsize=fontsize,
                    ha="right" if left else "left", va="bottom",
                    arrowprops=dict(arrowstyle="-", lw=0.5, color="0.5") if far else None)


def _overlap(a: Box, b: Box) -> float:
    """The area two boxes (x0, y0, x1, y1) share."""
    return (max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
            * max(0.0, min(a[3], b[3]) - max(a[1], b[1])))


def _pca_2d(Y: Float64Array) -> tuple[Float64Array, Float64Array]:
    """(n, 2) projections of the centred rows of Y on its first two principal axes, and
    the shares of the variance along them."""
    centred = Y - Y.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2]
    largest = np.argmax(np.abs(axes), axis=1)
    axes = axes * np.sign(axes[np.arange(2), largest])[:, None]
    total = float(np.sum(s ** 2))
    share = s[:2] ** 2 / total if total > 0 else np.zeros(2)
    return centred @ axes.T, share


def _item_labels(model: AnyModel, chosen: NDArray[np.integer[Any]],
                 labels: str | Sequence[str]) -> list[str]:
    ids = model.item_ids_.to_raw(chosen)
    if isinstance(labels, str):
        if labels not in ("title", "id"):
            raise ValueError(f"labels must be 'title', 'id' or a text per item, got {labels!r}")
        info = getattr(model, "item_info_", None)
        if labels == "title" and info is not None:
            return [str(t) for t in info.title(ids)]
        return [str(i) for i in ids.tolist()]
    texts = [str(t) for t in labels]
    if len(texts) != len(chosen):
        raise ValueError(f"labels must give a text per chosen item: {len(chosen)} items, got "
                         f"{len(texts)} labels")
    return texts
