"""Interactions: validated (user, item, rating) data with id maps and CSR both ways.

Raw ids (ints or strings, whatever the caller has) are mapped once to contiguous indices;
models and kernels see indices only, public methods speak raw ids.

- :mod:`.ids`: ``IdMap``, raw ids <-> indices;
- :mod:`.csr`: ``Csr`` in the kernels' layout, and triples -> CSR with a duplicates policy;
- :mod:`.item_info`: ``ItemInfo``, titles and genres, from arrays or an items file;
- :mod:`.interactions`: ``Interactions`` and ``as_interactions``;
- :mod:`.constructors`: ``Interactions``' ``from_*`` constructors;
- :mod:`.readers`: ratings files, items files and scipy.sparse matrices as arrays;
- :mod:`.text`: delimited text: encodings, separator and header detection, columns.
"""
from .csr import (DUPLICATE_POLICIES, Csr, _raise_duplicate, combine_duplicates,
                  first_of_each_pair, pairs_to_csr, transpose)
from .ids import IdMap, _comparable, _factorize
from .interactions import Interactions, as_interactions
from .item_info import ItemInfo
from .readers import _is_number, _parse_ids, _parse_numbers, _undecodable_line
