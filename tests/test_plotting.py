"""fastmf.plot: learning curves and item factors in two dimensions, drawn headless."""
import subprocess
import sys

import matplotlib
import numpy as np
import pytest

import fastmf

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def split():
    data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    return fastmf.train_test_split(data, test_size=0.2, seed=0)


@pytest.fixture(scope="module")
def als(split):
    train, test = split
    return fastmf.ALS(factors=8, iterations=6, seed=0, verbose=False).fit(train, validation=test)


def assert_png(path):
    assert path.is_file() and path.stat().st_size > 1000
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_plot_is_the_plotting_module_and_importing_fastmf_skips_matplotlib():
    assert fastmf.plot is fastmf.plotting
    code = "import sys, fastmf; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_learning_curve_draws_train_and_validation_rmse_per_iteration(als, tmp_path):
    ax = fastmf.plot.learning_curve(als)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["train_rmse", "val_rmse"]
    for line, key in zip(lines, ["train_rmse", "val_rmse"]):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 7))
        np.testing.assert_array_equal(line.get_ydata(), [h[key] for h in als.history_])
    assert lines[0].get_color() == lines[1].get_color()
    assert lines[0].get_linestyle() != lines[1].get_linestyle()
    assert ax.get_xlabel() == "iteration" and ax.get_ylabel() == "rmse"
    assert ax.get_title() == "ALS"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train_rmse", "val_rmse"]
    ax.figure.savefig(tmp_path / "curve.png")
    assert_png(tmp_path / "curve.png")


def test_learning_curve_of_several_models_on_one_given_axes(als, split, tmp_path):
    train, test = split
    sgd = fastmf.SGD(factors=8, epochs=4, seed=0, num_threads=1, verbose=False)
    sgd.fit(train, validation=test)
    ax = Figure().subplots()
    returned = fastmf.plot.learning_curve([als, sgd], ax=ax)
    assert returned is ax
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["ALS: train_rmse", "ALS: val_rmse", "SGD: train_rmse", "SGD: val_rmse"]
    assert len(ax.get_lines()[2].get_xdata()) == 4
    assert ax.get_lines()[0].get_color() != ax.get_lines()[2].get_color()

    ax = fastmf.plot.learning_curve([als, sgd], metrics="val_rmse", labels=["k=8 ALS", "SGD"])
    assert [line.get_label() for line in ax.get_lines()] == ["k=8 ALS", "SGD"]
    assert ax.get_ylabel() == "rmse"
    ax.figure.savefig(tmp_path / "two.png")
    assert_png(tmp_path / "two.png")


def test_learning_curve_of_histories_and_repeated_model_names(als):
    history = [{"iteration": 1, "loss": 5.0, "val_x": 0.3},
               {"iteration": 2, "loss": 4.0, "val_x": 0.2}]
    ax = fastmf.plot.learning_curve(history)
    assert [line.get_label() for line in ax.get_lines()] == ["val_x"]
    ax = fastmf.plot.learning_curve([history, history], metrics=["loss"])
    assert [line.get_label() for line in ax.get_lines()] == ["history 1", "history 2"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), [5.0, 4.0])
    ax = fastmf.plot.learning_curve([als, als], metrics="train_rmse")
    assert [line.get_label() for line in ax.get_lines()] == ["ALS 1", "ALS 2"]


def test_learning_curve_of_implicit_models_shows_ranking_metrics_or_the_loss(split):
    train, test = split
    model = fastmf.ImplicitALS(factors=8, iterations=3, seed=0, verbose=False)
    ax = fastmf.plot.learning_curve(model.fit(train, validation=test))
    assert [line.get_label() for line in ax.get_lines()] == ["val_precision@10", "val_ndcg@10"]
    assert ax.get_ylabel() == "precision@10 / ndcg@10"
    ax = fastmf.plot.learning_curve(model.fit(train))           # no validation: the loss
    assert [line.get_label() for line in ax.get_lines()] == ["loss"]


@pytest.mark.parametrize("call, error, match", [
    (lambda m: fastmf.plot.learning_curve(fastmf.ALS()), ValueError, "not fitted yet"),
    (lambda m: fastmf.plot.learning_curve(m, metrics="val_auc"), ValueError,
     "'val_auc' is not in any history; recorded: iteration, loss, train_rmse, val_rmse"),
    (lambda m: fastmf.plot.learning_curve([m, m], labels=["one"]), ValueError,
     "a name per run: 2 runs, got 1 labels"),
    (lambda m: fastmf.plot.learning_curve([]), ValueError, "empty"),
    (lambda m: fastmf.plot.learning_curve("ALS"), TypeError, "got str"),
    (lambda m: fastmf.plot.item_factors_2d(fastmf.ALS()), fastmf.NotFittedError, "not fitted"),
    (lambda m: fastmf.plot.item_factors_2d(m, items=[0, 10_000]), fastmf.UnknownIdError, "10000"),
    (lambda m: fastmf.plot.item_factors_2d(m, labels="name"), ValueError, "'title', 'id'"),
    (lambda m: fastmf.plot.item_factors_2d(m, items=[1, 2], labels=["a"]), ValueError,
     "2 items, got 1 labels"),
])
def test_errors_name_the_problem(als, call, error, match):
    with pytest.raises(error, match=match):
        call(als)
    assert plt.get_fignums() == []           # nothing was drawn before the check


def test_item_factors_2d_is_the_svd_projection_of_the_centred_factors(als, tmp_path):
    ax = fastmf.plot.item_factors_2d(als, items=[3, 17, 42])
    points = ax.collections[0].get_offsets()
    Y = als.item_factors_.astype(np.float64)
    centred = Y - Y.mean(axis=0)
    u, s, vt = np.linalg.svd(centred)
    expected = u[:, :2] * s[:2]
    signs = np.sign(np.sum(points * expected, axis=0))      # each axis up to its sign
    np.testing.assert_allclose(points, expected * signs, rtol=1e-7, atol=1e-12)
    loadings = vt[:2] * signs[:, None]
    assert (loadings[np.arange(2), np.argmax(np.abs(loadings), axis=1)] > 0).all()
    chosen = als.item_ids_.index([3, 17, 42])
    np.testing.assert_allclose(ax.collections[1].get_offsets(), points[chosen])
    assert [t.get_text() for t in ax.texts] == ["Item 3", "Item 17", "Item 42"]   # item_info_
    share = s[0] ** 2 / np.sum(s ** 2)
    assert ax.get_xlabel() == f"component 1 ({share:.0%} of the variance)"
    ax.figure.savefig(tmp_path / "items.png")
    assert_png(tmp_path / "items.png")


def test_item_factors_2d_labels_the_farthest_items_by_default(als):
    ax = fastmf.plot.item_factors_2d(als, labels="id")
    points = ax.collections[0].get_offsets()
    distance = np.hypot(points[:, 0], points[:, 1])
    farthest = als.item_ids_.ids[np.argsort(-distance)[:10]]
    assert [t.get_text() for t in ax.texts] == [str(i) for i in farthest]
    ax = fastmf.plot.item_factors_2d(als, items=[5, 6], labels=["five", "six"],
                                     ax=Figure().subplots())
    assert [t.get_text() for t in ax.texts] == ["five", "six"]


def test_item_factors_2d_labels_of_crowded_items_do_not_overlap(als):
    points = fastmf.plot.item_factors_2d(als, items=[0]).collections[0].get_offsets()
    crowd = np.argsort(np.hypot(*(points - points[0]).T), kind="stable")[:8]   # 8 neighbours
    ids = als.item_ids_.ids[crowd]
    figure = Figure(figsize=(6.4, 4.8))
    canvas = FigureCanvasAgg(figure)
    ax = fastmf.plot.item_factors_2d(als, items=ids, labels=[f"a long title {i}" for i in ids],
                                     ax=figure.subplots())
    canvas.draw()                                  # places the annotations
    renderer = canvas.get_renderer()
    boxes = [Text.get_window_extent(t, renderer) for t in ax.texts]   # the text, not its line
    anchors = ax.transData.transform(points[crowd])
    assert np.ptp(anchors[:, 1]) < 8 * boxes[0].height     # a crowd: labels at one offset clash
    for a in range(len(boxes)):
        for b in range(a):
            assert not boxes[a].overlaps(boxes[b]), (ax.texts[a].get_text(), ax.texts[b].get_text())


def test_item_factors_2d_needs_two_factors(split):
    model = fastmf.ALS(factors=1, iterations=2, seed=0, verbose=False).fit(split[0])
    with pytest.raises(ValueError, match="at least two factors and two items; the model has 1 "
                                         "factors"):
        fastmf.plot.item_factors_2d(model)


def test_missing_matplotlib_says_how_to_install_it(als, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)     # import fails
    for call in (lambda: fastmf.plot.learning_curve(als), lambda: fastmf.plot.item_factors_2d(als)):
        with pytest.raises(ImportError, match=r'pip install "fastmf-recsys\[plot\]"'):
            call()
