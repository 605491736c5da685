"""Interactions: validated (user, item, rating) data with id maps and CSR both ways.

Raw ids (ints or strings, whatever the caller has) are mapped once to contiguous indices;
models and kernels see indices only, public methods speak raw ids.

- :mod:`.ids`: ``IdMap``, raw ids <-> indices;
- :mod:`.csr`: ``Csr`` in the kernels' layout, and triples -> CSR with a duplicates policy;
- :mod:`.item_info`: ``ItemInfo``, titles and genres;
- :mod:`.interactions`: ``Interactions`` and ``as_interactions``;
- :mod:`.readers`: delimited text files and scipy.sparse matrices as triples.
"""
from .csr import (DUPLICATE_POLICIES, Csr, _raise_duplicate, combine_duplicates,
                  first_of_each_pair, pairs_to_csr, transpose)
from .ids import IdMap, _comparable, _factorize
from .interactions import Interactions, as_interactions
from .item_info import ItemInfo
from .readers import (_is_number, _parse_ids, _parse_numbers, _read_columns, _read_fields,
                      _undecodable_line)
