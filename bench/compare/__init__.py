"""fastmf against its peers, each library in a fresh process on the same data and cores.

One module per peer, run from the repository root with ``python -m``:

- ``bench.compare.cmfrec``: explicit ALS, fastmf.ALS against cmfrec;
- ``bench.compare.libmf``: SGD, fastmf.SGD against LIBMF;
- ``bench.compare.implicit_als``: fastmf.ImplicitALS against implicit's ALS;
- ``bench.compare.implicit_bpr``: fastmf.BPR against implicit's BPR;
- ``bench.compare.spark``: fastmf.distributed on Dask against Spark's ALS.

``_common`` holds what they share (sizes and data, workers, peak memory, tables).
"""
