"""Reading input files: format sniffing (:mod:`editcheck.io.formats`) and the one FASTA reader
(:mod:`editcheck.io.fasta`)."""
