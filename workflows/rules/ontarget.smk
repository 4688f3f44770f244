# On-target quantification: one `editcheck quantify` job per on-target sample (config/samples.tsv, or the
# on_target samples of a study, each against its own design of the designs sheet).


rule quantify_ontarget:
    input:
        unpack(get_ontarget_reads),
        design=get_design_files,
    output:
        summary_json="results/ontarget/{sample}/summary.json",
        summary_tsv="results/ontarget/{sample}/summary.tsv",
        alleles="results/ontarget/{sample}/alleles.tsv",
        positions="results/ontarget/{sample}/positions.tsv",
        indel_sizes="results/ontarget/{sample}/indel_sizes.tsv",
    log:
        "results/logs/quantify_ontarget/{sample}.log",
    benchmark:
        "results/benchmarks/quantify_ontarget/{sample}.tsv"
    conda:
        "../envs/editcheck.yaml"
    threads: 2
    resources:
        mem_mb=get_ontarget_mem_mb,
    params:
        editcheck=EDITCHECK,
        reads=get_reads_option,
        options=get_quantify_options,
        vcf="--write-vcf" if (STUDY_SETTINGS or ONTARGET).get("write_vcf") else "",
        bam="--write-bam" if (STUDY_SETTINGS or ONTARGET).get("write_bam") else "",
        outdir=get_output_folder,
    shell:
        "{params.editcheck} quantify {params.reads} {params.options} {params.vcf} {params.bam}"
        " --sample {wildcards.sample:q} -t {threads} -o {params.outdir} > {log:q} 2>&1"


# With write_vcf: the study VCF of each design and coordinate system (`editcheck merge-vcf`; MERGED_VCF in
# common.smk): its on-target samples' edits.vcf.gz in one multi-sample file, merged as `bcftools merge -m none`
# merges them.
rule merge_vcf:
    input:
        get_merge_vcf_inputs,
    output:
        vcf="results/merged_vcf/{vcf_folder}/edits.vcf.gz",
        index="results/merged_vcf/{vcf_folder}/edits.vcf.gz.tbi",
    log:
        "results/logs/merge_vcf/{vcf_folder}.log",
    conda:
        "../envs/editcheck.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        editcheck=EDITCHECK,
        sources=get_merge_vcf_sources,
        outdir=get_output_folder,
    shell:
        "{params.editcheck} merge-vcf {params.sources} -o {params.outdir} > {log:q} 2>&1"
