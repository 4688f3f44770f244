"""Study-level evidence from many result folders: replicate-aware estimates per (design, subject, tissue, time
point), durability per subject and design, and the per-patient / per-product evidence table (issue #12).

It sits above :mod:`editcheck.results` (whose readers it uses) and below the report, which renders it:

- :mod:`~editcheck.evidence.records`: the typed inputs (:class:`SampleEstimate`, :class:`PanelSummary`) and
  the study metadata of a sample (:class:`SampleMetadata`);
- :mod:`~editcheck.evidence.load`: building them from ``editcheck quantify`` and ``editcheck offtarget``
  folders plus the study's metadata;
- :mod:`~editcheck.evidence.groups`: estimates pooled over biological replicates (item 3);
- :mod:`~editcheck.evidence.series`: durability per subject and design (item 4);
- :mod:`~editcheck.evidence.table`: the evidence table and the platform table (item 5);
- :mod:`~editcheck.evidence.output`: their TSV and JSON files, column lists beside the writer.
"""
