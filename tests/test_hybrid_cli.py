"""fastmf train --user-features / --item-features, run for real in subprocesses."""
import numpy as np

import fastmf

from .test_cli import run

DATA = ("clicks.csv", "--header", "--columns", "user,item")


def _files(folder):
    gen = np.random.default_rng(0)
    lines = ["user,item"]
    for u in range(60):
        for i in gen.choice(40, 6, replace=False):
            lines.append(f"{u},{i}")
    (folder / "clicks.csv").write_text("\n".join(lines) + "\n")
    (folder / "users.csv").write_text(
        "user,gender,occupation,score\n"
        + "".join(f"{u},{'FM'[u % 2]},{['writer', 'artist', 'doctor'][u % 3]},{u / 60:.3f}\n"
                  for u in range(60)))
    (folder / "items.csv").write_text(
        "item,genres\n" + "".join(f"{i},{'Drama|Comedy' if i % 2 else 'Action'}\n"
                                  for i in range(40)))


def test_train_with_user_and_item_features_saves_the_feature_maps(tmp_path):
    _files(tmp_path)
    out = run("train", *DATA, "--model", "implicit-als", "--factors", "4",
              "--iterations", "3", "--user-features", "users.csv", "--item-features",
              "items.csv", "--quiet", "--output", "m.npz", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    model = fastmf.load(tmp_path / "m.npz")
    assert model.user_feature_names_.tolist() == [
        "gender=F", "gender=M", "occupation=artist", "occupation=doctor", "occupation=writer",
        "score"]
    assert model.feature_names_.tolist() == ["genres=Action", "genres=Comedy", "genres=Drama"]
    items, _ = model.recommend_new_user(features={"gender=F": 1, "occupation=doctor": 1}, n=3)
    assert len(items) == 3


def test_bpr_trains_with_features_from_the_command_line(tmp_path):
    _files(tmp_path)
    out = run("train", *DATA, "--model", "bpr", "--factors", "4", "--iterations", "5",
              "--item-features", "items.csv", "--quiet", "--output", "m.npz", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    model = fastmf.load(tmp_path / "m.npz")
    assert isinstance(model, fastmf.BPR) and model.feature_biases_.shape == (3,)
    model.add_items([1000], [["genres=Action"]])
    action = list(model.feature_names_).index("genres=Action")
    np.testing.assert_allclose(model.item_factors_[-1], model.feature_factors_[action])


def test_feature_options_are_checked(tmp_path):
    _files(tmp_path)
    out = run("train", *DATA, "--model", "sgd", "--user-features",
              "users.csv", "--quiet", "--output", "m.npz", cwd=tmp_path)
    assert out.returncode != 0
    assert "--user-features needs a model with side features (als, implicit-als, bpr), got " \
           "SGD" in out.stderr
    out = run("train", *DATA, "--model", "implicit-als", "--item-features",
              "missing.csv", "--quiet", "--output", "m.npz", cwd=tmp_path)
    assert out.returncode != 0 and "no features file" in out.stderr
    assert not (tmp_path / "m.npz").exists()
