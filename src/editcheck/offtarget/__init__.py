"""Off-target analysis: in-silico nomination of candidate sites (:mod:`.nominate`), quantification of
a site panel (:mod:`.panel`) and per-site calls (:mod:`.significance`)."""

from editcheck.offtarget.nominate import SearchSpec, Site, iter_fasta, nominate, write_sites

__all__ = ["SearchSpec", "Site", "iter_fasta", "nominate", "write_sites"]
