"""
A map of the item factors
=========================

:func:`fastmf.plot.item_factors_2d` projects every item's factors on their first two
principal components and labels the items you name by title: films the model scores
alike land close together. Here an ALS model of MovieLens 100K places
a few well-known films.
"""
import fastmf

data = fastmf.datasets.load_movielens("100k")
model = fastmf.ALS(factors=32, iterations=8, seed=0, verbose=False).fit(data)

films = [1, 50, 71, 98, 127, 172, 181, 313, 8, 95, 69, 135]   # MovieLens 100K ids
ax = fastmf.plot.item_factors_2d(model, items=films)
ax.figure.set_size_inches(8, 6)
print(data.item_info.title(films))

# %%
# Star Wars' nearest neighbours by cosine similarity of the factors:
similar, cosines = model.similar_items(50, n=5)
for title, cosine in zip(data.item_info.title(similar), cosines):
    print(f"{cosine:.3f}  {title}")
