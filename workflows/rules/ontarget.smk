# On-target quantification: one `editcheck quantify` job per sample of config/samples.tsv.


rule quantify_ontarget:
    input:
        unpack(get_ontarget_reads),
        amplicon=get_amplicon_file,
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
        r2=get_r2_option,
        amplicon=get_amplicon_option,
        options=get_quantify_options,
        vcf="--write-vcf" if ONTARGET.get("write_vcf") else "",
        outdir=get_output_folder,
    shell:
        "editcheck quantify --r1 {input.r1:q} {params.r2} -a {params.amplicon} {params.options} {params.vcf}"
        " --sample {wildcards.sample:q} -t {threads} -o {params.outdir} > {log:q} 2>&1"
