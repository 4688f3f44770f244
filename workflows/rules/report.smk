# The evidence report (`editcheck report`): ONE report for the whole run in results/report/: for a study,
# every design's samples and panels with the study's sheets (an overview of the evidence per design and
# subject, durability, then a section per design: designs are never mixed in a table or a plot); for a
# one-design config, its samples, panel and sample sheet. report.pdf is written beside report.html when a
# headless Chromium is installed (not a declared output: it depends on the machine).


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
            "results/report/report.html",
            caption="../report/report.rst",
            category="Evidence report",
        ),
        summary=report(
            "results/report/summary.tsv",
            caption="../report/summary.rst",
            category="Evidence report",
        ),
        conditions="results/report/conditions.tsv",
        evidence="results/report/evidence.tsv",
        manifest="results/report/manifest.json",
    log:
        "results/logs/build_report/build_report.log",
    benchmark:
        "results/benchmarks/build_report/build_report.tsv"
    conda:
        "../envs/editcheck.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        editcheck=EDITCHECK,
        sources=get_report_sources,
        outdir=get_output_folder,
        options=get_report_options,
    shell:
        "{params.editcheck} report {params.sources} --config {input.config:q} {params.options}"
        " -o {params.outdir} > {log:q} 2>&1"


# The shareable evidence package (`editcheck export`): the report, every table, the schemas and a manifest
# with the inputs' checksums, as results/package/ and results/package.tar.gz, without the raw reads.
rule export_package:
    input:
        unpack(get_report_inputs),
        report="results/report/manifest.json",
        merged_vcf=get_merged_vcfs,
    output:
        manifest="results/package/manifest.json",
        archive="results/package.tar.gz",
    log:
        "results/logs/export_package/export_package.log",
    conda:
        "../envs/editcheck.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        editcheck=EDITCHECK,
        sources=get_package_sources,
        sheets=get_package_sheets,
        vcf="--with-bam-vcf" if (STUDY_SETTINGS or ONTARGET).get("write_vcf") or (STUDY_SETTINGS or ONTARGET).get("write_bam") else "",
        outdir=get_output_folder,
    shell:
        "{params.editcheck} export {params.sources} {params.sheets} {params.vcf} -o {params.outdir} > {log:q} 2>&1"
