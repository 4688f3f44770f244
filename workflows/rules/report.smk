# The evidence report: per-sample on-target results and the off-target calls in one HTML page,
# a summary table and a provenance manifest (`editcheck report`).  {part} is empty for a one-design config
# (results/report/), "<design>/" in a study: one report per design, so designs are never mixed in a table.


rule record_config:
    output:
        "results/config.yaml",
    log:
        "results/logs/record_config/record_config.log",
    localrule: True
    params:
        config=config,
    run:
        import yaml

        with open(output[0], "w", encoding="utf-8") as handle:
            yaml.safe_dump(params.config, handle, sort_keys=True)


rule build_report:
    input:
        unpack(get_report_inputs),
        config="results/config.yaml",
    output:
        html=report(
            "results/report/{part}report.html",
            caption="../report/report.rst",
            category="Evidence report",
        ),
        summary=report(
            "results/report/{part}summary.tsv",
            caption="../report/summary.rst",
            category="Evidence report",
        ),
        conditions="results/report/{part}conditions.tsv",
        manifest="results/report/{part}manifest.json",
    log:
        "results/logs/build_report/{part}build_report.log",
    benchmark:
        "results/benchmarks/build_report/{part}build_report.tsv"
    conda:
        "../envs/editcheck.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        sources=get_report_sources,
        outdir=get_output_folder,
        options=get_report_options,
    shell:
        "editcheck report {params.sources} --config {input.config:q} {params.options}"
        " -o {params.outdir} > {log:q} 2>&1"


# The shareable evidence package (`editcheck export`): the report, every table, the schemas and a manifest
# with the inputs' checksums, as results/package/ and results/package.tar.gz, without the raw reads.
rule export_package:
    input:
        unpack(get_report_inputs),
        report="results/report/{part}manifest.json",
    output:
        manifest="results/{part}package/manifest.json",
        archive="results/{part}package.tar.gz",
    log:
        "results/logs/export_package/{part}export_package.log",
    conda:
        "../envs/editcheck.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        sources=get_package_sources,
        sheets=get_package_sheets,
        vcf="--with-bam-vcf" if (STUDY_SETTINGS or ONTARGET).get("write_vcf") else "",
        outdir=get_output_folder,
    shell:
        "editcheck export {params.sources} {params.sheets} {params.vcf} -o {params.outdir} > {log:q} 2>&1"
