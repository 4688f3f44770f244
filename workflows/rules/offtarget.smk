# Off-target site panel: every site in every panel sample, then one call per site
# (`editcheck offtarget`; treated versus control, Benjamini-Hochberg across sites).


rule offtarget_panel:
    input:
        sites=get_site_sheet,
        samples=get_panel_sheet,
        reads=get_panel_reads,
    output:
        calls_tsv=report(
            "results/offtarget/offtarget_calls.tsv",
            caption="../report/offtarget_calls.rst",
            category="Off-target panel",
        ),
        calls_json="results/offtarget/offtarget_calls.json",
        methods="results/offtarget/methods.txt",
    log:
        "results/logs/offtarget_panel/offtarget_panel.log",
    benchmark:
        "results/benchmarks/offtarget_panel/offtarget_panel.tsv"
    conda:
        "../envs/editcheck.yaml"
    threads: 4
    resources:
        mem_mb=get_panel_mem_mb,
    params:
        options=get_offtarget_options,
        outdir=get_output_folder,
    shell:
        "editcheck offtarget --sites {input.sites:q} --samples {input.samples:q} {params.options}"
        " -t {threads} -o {params.outdir} > {log:q} 2>&1"
