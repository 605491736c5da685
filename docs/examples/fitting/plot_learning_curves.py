"""
Learning curves of ALS and SGD
==============================

Two explicit models fitted on MovieLens 100K with a validation part: ``fit(train,
validation=test)`` records the train and validation RMSE of every iteration in
``history_``, and :func:`fastmf.plot.learning_curve` draws them, one color per model and
one line style per metric.
"""
import fastmf

data = fastmf.datasets.load_movielens("100k")
train, test = fastmf.train_test_split(data, test_size=0.2, seed=0)
als = fastmf.ALS(factors=32, iterations=8, seed=0, verbose=False).fit(train, validation=test)
sgd = fastmf.SGD(factors=32, epochs=20, seed=0, verbose=False).fit(train, validation=test)

ax = fastmf.plot.learning_curve([als, sgd])
ax.set_title("MovieLens 100K: RMSE per iteration")
ax.figure.set_size_inches(7, 4.5)

# %%
# ALS reaches its best validation RMSE within a few iterations; SGD takes more, smaller
# steps. ``history_`` is a list of dicts, one per iteration:
print(als.history_[-1])
print(sgd.history_[-1])
