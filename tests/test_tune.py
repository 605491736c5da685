"""fastmf.tune and tune_function: the halving ladder and budget, reproducibility, failures,
and scores checked against fits done here."""
import math
import warnings

import numpy as np
import pytest

import fastmf
from fastmf.model_selection import TuneResult, default_space, tune_function


def distance_to_two(params, iterations):
    """A known objective: best at x = 2, sharper with iterations."""
    return -abs(params["x"] - 2.0) * iterations


SPACE = {"x": (0.1, 10.0, "log")}


def untimed(trials):
    return [{name: value for name, value in row.items() if name != "seconds"} for row in trials]


def test_halving_spends_the_budget_on_a_ladder_and_promotes_the_best():
    # 9 iterations, factor 3: ladder 1, 3, 9; 18 candidates cost 18/9 + 6*3/9 + 2 = 6 fits
    result = tune_function(distance_to_two, SPACE, max_iterations=9, budget=6, seed=0,
                           refine=0)
    assert result.fits == pytest.approx(6.0) and result.strategy == "halving"
    reached = [row["iterations"] for row in result.trials]
    assert (reached.count(1), reached.count(3), reached.count(9)) == (12, 4, 2)
    distance = {row["trial"]: abs(row["x"] - 2.0) for row in result.trials}
    by_distance = sorted(distance, key=distance.get)
    assert {row["trial"] for row in result.trials if row["iterations"] >= 3} == set(by_distance[:6])
    assert {row["trial"] for row in result.trials if row["iterations"] == 9} == set(by_distance[:2])
    assert result.best_params == {"x": result.trials[by_distance[0]]["x"]}
    assert result.best_score == pytest.approx(-9 * distance[by_distance[0]])
    assert all(row["score"] == pytest.approx(-row["iterations"] * distance[row["trial"]])
               for row in result.trials)


def test_halving_fits_the_initial_candidate_in_full_within_the_budget():
    result = tune_function(distance_to_two, SPACE, max_iterations=9, budget=6, seed=0,
                           initial={"x": 9.0}, refine=0)
    assert result.trials[0]["x"] == 9.0 and result.trials[0]["iterations"] == 9
    assert result.fits <= 6.0 and result.best_params != {"x": 9.0}


def test_random_search_fits_every_candidate_in_full():
    result = tune_function(distance_to_two, SPACE, max_iterations=9, budget=5,
                           strategy="random", seed=0, initial={"x": 2.5}, refine=0)
    assert [row["iterations"] for row in result.trials] == [9] * 5
    assert result.trials[0]["x"] == 2.5 and result.fits == pytest.approx(5.0)
    assert all(0.1 <= row["x"] <= 10.0 for row in result.trials)


def test_refinement_spends_its_share_in_full_fits_after_the_search_and_never_loses():
    searched = tune_function(distance_to_two, SPACE, max_iterations=9, budget=3, seed=0,
                             refine=0, initial={"x": 9.0})
    refined = tune_function(distance_to_two, SPACE, max_iterations=9, budget=6, seed=0,
                            refine=0.5, initial={"x": 9.0})
    n = len(searched.trials)      # the same search on the first half of the budget, then
    assert untimed(refined.trials[:n]) == untimed(searched.trials)
    steps = refined.trials[n:]    # 3 full fits, each a step from the best so far
    assert len(steps) == 3 and all(row["iterations"] == 9 for row in steps)
    assert refined.fits == pytest.approx(searched.fits + 3) and refined.fits <= 6
    assert refined.best_score >= searched.best_score
    assert refined.strategy == "halving + refine" and "halving + refine" in str(refined)


def test_refinement_walks_closer_to_the_optimum_than_more_random_candidates():
    # Two parameters, best at x = 2 and u = 0.3: over 20 seeds, 12 fits of halving and 12
    # of refinement end closer than 24 of halving (0.14 against 0.24 in the mean).
    space = {"x": (0.01, 100.0, "log"), "u": (0.0, 1.0)}

    def objective(params, iterations):
        return -abs(np.log(params["x"] / 2.0)) - abs(params["u"] - 0.3)

    def error(refine, seed):
        return -tune_function(objective, space, max_iterations=9, budget=24, seed=seed,
                              refine=refine).best_score
    searched = [error(0, seed) for seed in range(20)]
    refined = [error(0.5, seed) for seed in range(20)]
    assert np.mean(refined) < 0.75 * np.mean(searched)


def test_perturbed_values_stay_in_their_ranges_and_kinds():
    from fastmf.model_selection._space import perturb
    space = {"x": (0.1, 10.0, "log"), "n": (1, 5), "kind": ["a", "b", "c"], "u": (0.0, 1.0)}
    rng = np.random.default_rng(0)
    start = {"x": 10.0, "n": 5, "kind": "a", "u": 0.0}
    moved = [perturb(space, start, 1.0, rng) for _ in range(200)]
    assert all(0.1 <= m["x"] <= 10.0 and 0.0 <= m["u"] <= 1.0 for m in moved)
    assert all(isinstance(m["n"], int) and 1 <= m["n"] <= 5 for m in moved)
    assert {m["kind"] for m in moved} == {"a", "b", "c"}
    assert len({m["x"] for m in moved}) > 50           # a real step, not a clip to a bound
    small = [perturb(space, {**start, "x": 1.0}, 0.01, rng)["x"] for _ in range(200)]
    assert 0.8 < min(small) and max(small) < 1.25      # log scale: 0.01 * ln(100) = 0.046


def test_refinement_steps_from_a_starting_value_that_is_not_a_number():
    # A model's own value may be None (ImplicitALS's init_std): the first step draws afresh.
    def objective(params, iterations):
        return 1.0 if params["x"] is None else -abs(params["x"] - 2.0)
    result = tune_function(objective, SPACE, max_iterations=3, budget=4, seed=0,
                           strategy="random", initial={"x": None})
    assert result.trials[0]["x"] is None and result.best_params == {"x": None}
    steps = result.trials[2:]
    assert len(steps) == 2 and all(0.1 <= row["x"] <= 10.0 for row in steps)


def test_the_same_seed_gives_the_same_search():
    space = {"x": (0.1, 10.0, "log"), "n": (1, 5), "kind": ["a", "b"], "u": (0.0, 1.0)}

    def objective(params, iterations):
        return params["x"] + params["n"] + params["u"] + (params["kind"] == "a")
    first = untimed(tune_function(objective, space, max_iterations=9, budget=6, seed=7).trials)
    assert first == untimed(tune_function(objective, space, max_iterations=9, budget=6,
                                          seed=7).trials)
    assert first != untimed(tune_function(objective, space, max_iterations=9, budget=6,
                                          seed=8).trials)
    assert all(isinstance(row["n"], int) and 1 <= row["n"] <= 5 for row in first)
    assert {row["kind"] for row in first} == {"a", "b"}


def test_a_small_budget_falls_back_to_full_fits():
    result = tune_function(distance_to_two, SPACE, max_iterations=9, budget=1, seed=0)
    assert [row["iterations"] for row in result.trials] == [9]


@pytest.mark.parametrize("refine", [0, 0.5])
def test_time_budget_stops_after_the_first_fit(refine):
    result = tune_function(distance_to_two, SPACE, max_iterations=9, budget=6, seed=0,
                           time_budget=1e-12, refine=refine)
    assert result.stopped_by == "time_budget"
    assert sum(row["iterations"] > 0 for row in result.trials) == 1
    assert result.best_params == {"x": result.trials[0]["x"]}


def test_a_failing_candidate_is_a_failed_trial_with_its_error_and_never_wins(caplog):
    def objective(params, iterations):
        if params["x"] > 1.0:
            raise RuntimeError(f"diverged at x={params['x']:.3f}\nsecond line")
        return math.nan if params["x"] < 0.2 else params["x"]
    with warnings.catch_warnings(record=True) as caught, caplog.at_level("INFO", "fastmf"):
        warnings.simplefilter("always")
        result = tune_function(objective, {"x": (0.05, 1.6)}, max_iterations=3, budget=8,
                               strategy="random", seed=0, refine=0)
    assert caught == []                       # nothing printed through the progress bar
    assert len(result.trials) == 8            # the search went on to the end
    for row in result.trials:                 # the reason, from the candidate's own x
        if row["x"] > 1.0:
            expected = f"RuntimeError: diverged at x={row['x']:.3f}"
        elif row["x"] < 0.2:
            expected = "score nan: not a finite number"
        else:
            expected = None
        assert row["error"] == expected
        assert math.isnan(row["score"]) == (expected is not None)
    ok = [row["x"] for row in result.trials if 0.2 <= row["x"] <= 1.0]
    failed = [row["trial"] for row in result.trials if not 0.2 <= row["x"] <= 1.0]
    assert ok and failed and result.best_params == {"x": max(ok)}
    assert [row["trial"] for row in result.failed()] == failed
    warned = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 1                   # one summary, after the search
    assert warned[0].getMessage().startswith(f"tune: {len(failed)} of 8 trials failed, the "
                                             f"first (trial {failed[0]}) with ")
    text = str(result)
    assert f"; {len(failed)} failed" in text.splitlines()[0]
    assert text.splitlines()[1].split()[-1] == "error"
    for row in result.trials:
        if row["error"]:
            line = next(line for line in text.splitlines()
                        if line.split()[1:2] == [str(row["trial"])])
            assert line.endswith(row["error"][:40]) or row["error"][:40] in line
    frame = result.to_dataframe()                  # pandas shows None as a missing value
    assert frame["error"].isna().tolist() == [row["error"] is None for row in result.trials]
    assert frame["error"].dropna().tolist() == [row["error"] for row in result.failed()]


def test_when_every_trial_fails_the_error_names_the_first_reasons():
    def objective(params, iterations):
        raise ArithmeticError(f"no fit for {'small' if params['x'] < 1 else 'large'} x")
    with pytest.raises(ValueError, match=r"every trial failed \(4 in all\): trial (\d): "
                                         r"ArithmeticError: no fit for (small|large) x; "
                                         r"trial \d: ArithmeticError: no fit for"):
        tune_function(objective, SPACE, max_iterations=3, budget=4, strategy="random",
                      seed=0, refine=0)
    with pytest.raises(ValueError, match="trial 0: ZeroDivisionError: division by zero;"):
        tune_function(lambda params, iterations: 1 / 0, SPACE, max_iterations=3, budget=2)


def test_a_model_whose_cholesky_fails_is_a_failed_trial_of_tune(caplog):
    # 32 factors over 20 items: YᵀY is singular and only the regularization makes the
    # systems positive definite; 1e-12 and 1e-6 are too small for float32.
    data = fastmf.datasets.make_ratings(60, 20, 600, seed=0)
    model = fastmf.ImplicitALS(factors=32, iterations=2, seed=0, verbose=False)
    space = {"regularization": [1e-12, 1e-6, 0.1, 1.0]}
    with caplog.at_level("WARNING", "fastmf"):
        result = fastmf.tune(model, data, budget=6, strategy="random", refine=0, seed=1,
                             space=space, verbose=False)

    def fails(regularization):              # the same fit, done here
        try:
            fastmf.ImplicitALS(**{**model.get_params(), "regularization": regularization}
                               ).fit(data)
        except fastmf.exceptions.ModelFitError:
            return True
        return False
    for row in result.trials:
        if fails(row["regularization"]):
            assert row["error"].startswith("ModelFitError: Cholesky failed for ")
            assert row["error"].endswith(f"increase regularization (now {row['regularization']})")
        else:
            assert row["error"] is None and math.isfinite(row["score"])
    assert any(row["error"] for row in result.trials)
    assert not fails(result.best_params["regularization"])
    assert result.best_model.regularization == result.best_params["regularization"]
    assert len([r for r in caplog.records if r.name == "fastmf"
                and r.levelname == "WARNING"]) == 1
    assert "ModelFitError: Cholesky failed" in str(result)


@pytest.mark.parametrize("space, error, match", [
    ({}, TypeError, "non-empty dict"), ({"x": []}, ValueError, "empty list"),
    ({"x": (1.0, 0.5)}, ValueError, "low <= high"),
    ({"x": (0.0, 1.0, "log")}, ValueError, "0 < low"),
    ({"x": (0.1, 1.0, "lin")}, ValueError, "'log'"), ({"x": 0.5}, ValueError, "list of values")])
def test_bad_spaces_raise_a_clear_error(space, error, match):
    with pytest.raises(error, match=match):
        tune_function(distance_to_two, space, max_iterations=3)


def test_tune_scores_on_the_validation_part_and_refits_on_all_of_train():
    data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    train, val = fastmf.train_test_split(data, test_size=0.2, seed=1)
    model = fastmf.ALS(factors=6, iterations=6, seed=3, verbose=False)
    result = fastmf.tune(model, train, validation=val, budget=3, seed=0, verbose=False)
    assert result.metric == "rmse" and sorted(result.best_params) == sorted(default_space(model))
    # the best trial, fitted here: its validation RMSE is the best score
    check = fastmf.ALS(**{**model.get_params(), **result.best_params}).fit(train)
    errors = check.predict(val.users, val.items).astype(np.float64) - val.ratings
    assert result.best_score == pytest.approx(np.sqrt(np.mean(errors ** 2)), rel=1e-6)
    assert result.best_score == min(row["score"] for row in result.trials
                                    if row["iterations"] == 6)
    assert np.array_equal(result.best_model.user_factors_, check.user_factors_)
    assert result.best_model.verbose is False and result.trials[0]["regularization"] == 1.0


def test_tune_a_ranking_model_with_its_own_validation_split():
    data = fastmf.datasets.make_ratings(200, 150, 5000, seed=0)
    model = fastmf.ImplicitALS(factors=6, iterations=3, verbose=False)
    first = fastmf.tune(model, data, budget=2, seed=5, verbose=False,
                        space={"regularization": (0.01, 10.0, "log"), "alpha": [1.0, 4.0]})
    again = fastmf.tune(model, data, budget=2, seed=5, verbose=False,
                        space={"regularization": (0.01, 10.0, "log"), "alpha": [1.0, 4.0]})
    assert first.metric == "ndcg@10" and untimed(first.trials) == untimed(again.trials)
    assert first.best_model.n_iter_ == 3 and first.best_model.user_factors_.shape[0] == data.n_users
    assert np.array_equal(first.best_model.item_factors_, again.best_model.item_factors_)
    assert "rank" in first.to_dataframe().columns
    text = str(first)
    assert "ndcg@10" in text.splitlines()[1] and "best ndcg@10" in text.splitlines()[0]


def test_tune_checks_its_arguments():
    data = fastmf.datasets.make_ratings(100, 50, 1000, seed=0)
    model = fastmf.BPR(epochs=3, verbose=False)
    with pytest.raises(ValueError, match="not a parameter of BPR"):
        fastmf.tune(model, data, space={"alpha": [1.0]})
    with pytest.raises(ValueError, match="halving"):
        fastmf.tune(model, data, space={"epochs": [2, 3]})
    with pytest.raises(ValueError, match="unknown metric"):
        fastmf.tune(model, data, metric="rmse")
    with pytest.raises(ValueError, match="strategy"):
        fastmf.tune(model, data, strategy="grid", verbose=False)
    with pytest.raises(TypeError, match="validation"):
        fastmf.tune(model, data, validation="0.2", verbose=False)
    for refine in (-0.1, 1.0):
        with pytest.raises(ValueError, match="refine"):
            fastmf.tune(model, data, refine=refine, verbose=False)


def test_the_default_space_follows_the_model_parameters():
    assert sorted(default_space(fastmf.ImplicitALS())) == ["alpha", "epsilon", "regularization",
                                                          "regularization_exponent",
                                                          "unobserved_weight"]
    assert "epsilon" not in default_space(fastmf.ImplicitALS(confidence="linear"))  # unused
    assert sorted(default_space(fastmf.SGD())) == ["bias_regularization", "regularization"]
    data = fastmf.datasets.make_ratings(100, 60, 1500, seed=0)
    model = fastmf.ImplicitALS(factors=4, iterations=2, verbose=False)
    result = fastmf.tune(model, data, budget=4, strategy="random", seed=0,
                         verbose=False)
    assert result.trials[0]["regularization"] == model.regularization   # its own values first
    fit_part, _ = fastmf.train_test_split(data, test_size=0.2, strategy="per_user",
                                          seed=int(np.random.default_rng(0).integers(2**31)))
    for row in result.trials[1:]:      # λ drawn for the average user, then scaled back
        scale = (fit_part.nnz / fit_part.n_users
                 + row["unobserved_weight"] * fit_part.n_items) ** row["regularization_exponent"]
        assert 0.01 <= row["regularization"] * scale <= 1000.0
        assert 1e-3 <= row["unobserved_weight"] <= 1.0
        assert 0.0 <= row["regularization_exponent"] <= 1.0
    assert isinstance(result, TuneResult)
