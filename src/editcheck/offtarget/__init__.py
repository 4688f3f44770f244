"""Off-target analysis: in-silico nomination of candidate sites (:mod:`.nominate`), quantification of
a site panel (:mod:`.panel`) and per-site calls (:mod:`.significance`).

The nomination API is re-exported here except the function ``nominate`` itself, which would hide the
submodule of the same name: use ``from editcheck.offtarget.nominate import nominate``.
"""

from editcheck.offtarget.nominate import SearchSpec, Site, iter_fasta, write_sites

__all__ = ["SearchSpec", "Site", "iter_fasta", "write_sites"]
