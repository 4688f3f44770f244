# Off-target site panel: every site in every panel sample, then one call per site
# (`editcheck offtarget`; treated versus control, Benjamini-Hochberg across sites).  {part} is empty for
# the panel of a one-design config (results/offtarget/), "<design>/" for each design's panel in a study.


rule study_sample_sheet:
    """A study design's on-target or panel samples as the sample sheet `editcheck offtarget` and
    `editcheck report --samples` read (untreated samples are controls there; reads paths absolute)."""
    input:
        designs=lambda wildcards: str(STUDY.designs_sheet),
        samples=lambda wildcards: str(STUDY.samples_sheet),
    output:
        "results/study/{design}/{assay}_samples.tsv",
    wildcard_constraints:
        assay="ontarget|panel",
    log:
        "results/logs/study_sample_sheet/{design}_{assay}.log",
    localrule: True
    run:
        assay = study_model.ON_TARGET if wildcards.assay == "ontarget" else study_model.OFF_TARGET_PANEL
        study_model.write_sample_sheet(STUDY.samples_of(wildcards.design, assay), output[0])


rule offtarget_panel:
    input:
        sites=get_site_sheet,
        samples=get_panel_sheet,
        reads=get_panel_reads,
    output:
        calls_tsv=report(
            "results/offtarget/{part}offtarget_calls.tsv",
            caption="../report/offtarget_calls.rst",
            category="Off-target panel",
        ),
        calls_json="results/offtarget/{part}offtarget_calls.json",
        methods="results/offtarget/{part}methods.txt",
    log:
        "results/logs/offtarget_panel/{part}offtarget_panel.log",
    benchmark:
        "results/benchmarks/offtarget_panel/{part}offtarget_panel.tsv"
    conda:
        "../envs/editcheck.yaml"
    threads: 4
    resources:
        mem_mb=get_panel_mem_mb,
    params:
        editcheck=EDITCHECK,
        options=get_offtarget_options,
        reference=get_reference_option,
        outdir=get_output_folder,
    shell:
        "{params.editcheck} offtarget --sites {input.sites:q} --samples {input.samples:q} {params.reference} {params.options}"
        " -t {threads} -o {params.outdir} > {log:q} 2>&1"
