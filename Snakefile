# editcheck workflow: on-target quantification per sample, the off-target site panel, and the
# evidence report.  Settings: config/config.yaml (see config/README.md).  Run from the repository
# root with `snakemake --cores 2`, or elsewhere with
# `snakemake --snakefile <repo>/Snakefile --directory DIR --configfile DIR/config.yaml --cores 2`.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflows/report/workflow.rst"


include: "workflows/rules/common.smk"
include: "workflows/rules/ontarget.smk"
include: "workflows/rules/offtarget.smk"
include: "workflows/rules/report.smk"


rule all:
    default_target: True
    input:
        "results/report/report.html",
        "results/report/summary.tsv",
        "results/report/manifest.json",
        "results/package.tar.gz",
