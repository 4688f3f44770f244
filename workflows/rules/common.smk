# Configuration, sample and site sheets, and the input functions of the rules.
#
# Paths in config/config.yaml are relative to the working directory (Snakemake's convention: the
# folder given to --directory, else where snakemake is started).  Paths inside a sheet are relative
# to the sheet's own folder, as `editcheck offtarget` reads them, so a sheet and its reads can be
# moved together.
import os
import re
import shlex
import sys

import pandas as pd
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# Every job runs the editcheck this Snakemake imports (below): `python -m editcheck` with Snakemake's own
# interpreter, so a job never runs another installation found on PATH (or fails with "editcheck: command not
# found" when the venv is used without activating it), and the versions the manifests record are the ones that ran.
EDITCHECK = f"{shlex.quote(sys.executable)} -m editcheck"

if "offtarget" in config and config["offtarget"] is None:
    # `offtarget: null` (documented: no panel) - the schema's defaults cannot be filled into null.
    del config["offtarget"]
if "study" in config and config["study"] is None:
    # `study: null` (config/single_design.yaml): a one-design run.
    del config["study"]
if "study" in config and "ontarget" in config:
    # Started from the repository root with --configfile, Snakemake merges the demo's config/config.yaml (a
    # study) under the given config: the block the command line gives wins; both from it is an error.
    given = workflow.config_settings.overwrite_config or {}
    if "ontarget" in given and given.get("study") is None:
        print("editcheck workflow: a one-design run (ontarget); ignoring the study of config/config.yaml, merged "
              "under --configfile", file=sys.stderr)  # fmt: skip
        del config["study"]
        if "offtarget" not in given:  # the study's panel settings, without sites: no panel for this design
            config.pop("offtarget", None)
    elif "study" not in given or "ontarget" in given:
        raise WorkflowError("config: give study (a whole study) or ontarget (one design), not both")
if "study" in config:
    # A study's designs and samples come from its sheets. Started from the repository root with
    # --configfile, Snakemake merges the demo's config/config.yaml under the study's config (and jobs of
    # `run:` rules re-read the config without --replace-workflow-config), so the demo's one-design settings
    # are dropped here, with a note, rather than refused.
    ignored = ["ontarget"] if config.pop("ontarget", None) is not None else []
    for key in ("sites", "samples"):
        if (config.get("offtarget") or {}).pop(key, None) is not None:
            ignored.append(f"offtarget.{key}")
    if ignored:
        print(f"editcheck workflow: a study takes its designs and samples from its sheets; ignoring "
              f"{', '.join(ignored)} of the config (e.g. config/config.yaml, merged under --configfile)",
              file=sys.stderr)  # fmt: skip
    # The study sheets are read and checked by the library (its column lists, its one-line errors), so a
    # study needs editcheck importable by Snakemake's Python (`pip install -e ".[workflow]"` gives both).
    from editcheck import study as study_model
    from editcheck.errors import EditcheckError

    config.setdefault("offtarget", {})  # a study's panels take their settings (defaults) from here
validate(config, schema="../schemas/config.schema.yaml")

# The sheets' columns are the library's (what `editcheck offtarget` and `editcheck report --samples` read), so
# the workflow and the commands it runs cannot drift apart; the schemas in ../schemas name the same columns
# (tests/test_workflow_sheets.py).
from editcheck.sheets import PANEL_SAMPLE_COLUMNS as SAMPLE_COLUMNS
from editcheck.sheets import PANEL_SITE_COLUMNS as SITE_COLUMNS
from editcheck.engine.segmented import SEGMENTED_ABOVE  # quantify runs FASTQ above this x --segment-reads in segments
# Names become folder names under results: no slash, not hidden (so never . or ..).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")


def sheet_error(path, problem, row=None):
    """A one-line error naming the sheet (and the row, counted from 1 below the header)."""
    where = path if row is None else f"{path}: row {row}"
    return WorkflowError(f"{where}: {problem}")


def read_sheet(path, columns, required, schema, choices=None):
    """A TSV sheet as a DataFrame indexed by its first column, checked before any job runs.

    Unknown or missing columns, bad names and values outside ``choices`` (column -> allowed values)
    give a one-line error naming the sheet and row; the schema then checks the rest.
    """
    key = required[0]
    if not os.path.isfile(path):
        raise sheet_error(
            path,
            "sheet not found (paths in the config are relative to the working directory)",
        )
    try:
        sheet = pd.read_csv(
            path,
            sep="\t",
            dtype=str,
            comment="#",
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8-sig",  # a byte-order mark from a spreadsheet is not part of the first column
        )
    except pd.errors.EmptyDataError:
        raise sheet_error(path, "empty file: the sheet needs a header line and rows")
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        problem = " ".join(str(error).split())
        raise sheet_error(path, f"not a readable tab-separated sheet ({problem})")
    sheet.columns = [str(column).strip() for column in sheet.columns]
    for column in sheet.columns:
        if column not in columns:
            raise sheet_error(
                path, f"unknown column {column!r}; columns are: {', '.join(columns)}"
            )
    for column in required:
        if column not in sheet.columns:
            raise sheet_error(path, f"missing column {column!r}")
    if sheet.empty:
        raise sheet_error(path, "no rows below the header")
    sheet = sheet.apply(lambda values: values.str.strip())
    for row, name in enumerate(sheet[key], 1):
        if pd.isna(name) or not NAME_PATTERN.match(name):
            raise sheet_error(
                path,
                f"{key} {name!r} must not start with '.' and may only contain "
                "letters, digits, '_', '.' and '-'",
                row,
            )
        for column, allowed in (choices or {}).items():
            value = sheet[column].iloc[row - 1]
            if value not in allowed:
                raise sheet_error(
                    path,
                    f"{key} {name}: {column} must be {' or '.join(allowed)}, not {value!r}",
                    row,
                )
    duplicated = sheet[key][sheet[key].duplicated()]
    if not duplicated.empty:
        raise sheet_error(path, f"{key} {duplicated.iloc[0]!r} appears more than once")
    validate(sheet, schema=schema)
    return sheet.set_index(key, drop=False)


def read_sample_sheet(path):
    """Samples with their reads; relative reads paths are resolved against the sheet's folder."""
    samples = read_sheet(
        path,
        SAMPLE_COLUMNS,
        ("sample", "condition", "r1"),
        "../schemas/samples.schema.yaml",
        choices={"condition": ("treated", "control")},
    )
    folder = os.path.dirname(path)
    for row, (name, sample) in enumerate(samples.iterrows(), 1):
        if not pd.isna(sample.get("bam")):
            raise sheet_error(
                path,
                f"sample {name}: genome-aligned reads (bam) need a study (a samples sheet with bam and locus,"
                " see config/README.md); a one-design sheet takes FASTQ r1/r2",
                row,
            )
        for column in ("r1", "r2"):
            value = sample.get(column)
            if pd.isna(value):
                continue
            reads = os.path.normpath(os.path.join(folder, value))
            if not os.path.isfile(reads):
                raise sheet_error(
                    path, f"sample {name}: {column} file {reads} not found", row
                )
            samples.loc[name, column] = reads
    return samples


def validate_study_sheet(path, schema):
    """Each row of a study sheet against its JSON schema (empty cells left out), after the library checked it."""
    sheet = pd.read_csv(path, sep="\t", dtype=str, comment="#", keep_default_na=False, na_values=[""],
                        encoding="utf-8-sig")  # fmt: skip
    validate(sheet.apply(lambda values: values.str.strip()), schema=schema)


def read_study(settings):
    """The study of the config's study block, read and checked by the library (one-line errors), then each
    sheet validated by its JSON schema."""
    from editcheck.results.sample import SUMMARY_COLUMNS

    try:
        study = study_model.read_study(settings["designs"], settings["samples"])
    except EditcheckError as error:
        raise WorkflowError(str(error)) from None
    for column, _ in study.samples[0].metadata:  # every sample has the sheet's metadata columns
        if column in SUMMARY_COLUMNS:
            raise sheet_error(settings["samples"], f"column {column!r} is a column of summary.tsv, where the "
                              "metadata columns are written; rename it")  # fmt: skip
    validate_study_sheet(settings["designs"], "../schemas/designs.schema.yaml")
    validate_study_sheet(settings["samples"], "../schemas/study_samples.schema.yaml")
    return study


# Every on-target sample (name -> its reads, design options and metadata) and every part of the run ("" for
# a one-design config, "<design>/" per design of a study) with its on-target samples and panel, in both
# modes: a part's panel is results/offtarget/<part>; the one report covers every part.
OFFTARGET = config.get("offtarget")
STUDY_SETTINGS = config.get("study")
if STUDY_SETTINGS is not None:
    STUDY = read_study(STUDY_SETTINGS)
    ONTARGET = None
    ONTARGET_SAMPLES = {
        sample.sample: sample for sample in STUDY.samples if sample.assay == study_model.ON_TARGET
    }
    PARTS = {
        f"{design_id}/": {
            "design": design_id,
            "samples": [sample.sample for sample in STUDY.samples_of(design_id)],
            "panel": bool(STUDY.samples_of(design_id, study_model.OFF_TARGET_PANEL)),
        }
        for design_id in STUDY.designs
        if any(sample.design_id == design_id for sample in STUDY.samples)
    }
else:
    STUDY = None
    ONTARGET = config["ontarget"]
    if OFFTARGET is not None and not (OFFTARGET.get("sites") and OFFTARGET.get("samples")):
        raise WorkflowError("config offtarget: give the sites and samples sheets of the panel (or leave offtarget out)")
    ONTARGET_SAMPLES = read_sample_sheet(ONTARGET["samples"])
    if OFFTARGET is not None:
        SITES = read_sheet(
            OFFTARGET["sites"],
            SITE_COLUMNS,
            ("site_id", "amplicon", "protospacer"),
            "../schemas/sites.schema.yaml",
        )
        PANEL_SAMPLES = read_sample_sheet(OFFTARGET["samples"])
        if set(PANEL_SAMPLES["condition"]) != {"treated", "control"}:
            raise sheet_error(
                OFFTARGET["samples"],
                "the panel needs at least one treated and one control sample",
            )
    PARTS = {"": {"design": None, "samples": list(ONTARGET_SAMPLES.index), "panel": OFFTARGET is not None}}


# With write_vcf, one study VCF per part (design) and coordinate system: its on-target samples' edits.vcf.gz
# merged by `editcheck merge-vcf` into results/merged_vcf/<folder>/ ("vcf" for a one-design config,
# "vcf_<design>" per design of a study: distinct from the sample and panel folder names in the package). A
# design whose samples mix FASTQ reads (VCF on the amplicon) and genome-aligned BAMs (VCF on the genome) gets
# one per coordinate system (Study.coordinate_groups): vcf_<design>_amplicon and vcf_<design>_genome (or
# vcf_<design>_genome_<locus> per locus when its BAM samples name several loci).
WRITE_VCF = bool((STUDY_SETTINGS or ONTARGET).get("write_vcf"))
MERGED_VCF = {}  # folder -> the on-target samples merged into it, in the sheet's order
if WRITE_VCF and STUDY is None:
    MERGED_VCF = {"vcf": PARTS[""]["samples"]} if PARTS[""]["samples"] else {}
elif WRITE_VCF:
    for design_id in STUDY.designs:
        groups = STUDY.coordinate_groups(design_id)
        for coordinates, members in groups.items():
            folder = f"vcf_{design_id}" if len(groups) == 1 else f"vcf_{design_id}_{coordinates}"
            if folder in MERGED_VCF:
                raise WorkflowError(f"{STUDY.designs_sheet}: the merged VCF folder {folder!r} of design {design_id!r} "
                                    "is also another design's (write_vcf); rename one of the designs")  # fmt: skip
            MERGED_VCF[folder] = [sample.sample for sample in members]

wildcard_constraints:
    vcf_folder="|".join(re.escape(name) for name in MERGED_VCF) or "(?!)",
    sample="|".join(re.escape(name) for part in PARTS.values() for name in part["samples"]) or "(?!)",
    part="(" + "|".join(re.escape(part) for part in PARTS) + ")",  # may be empty: "()" for one design
    design="|".join(re.escape(part["design"]) for part in PARTS.values() if part["design"]) or "(?!)",


def get_final_outputs(wildcards):
    """The one report of the run (results/report/), for one design or a whole study, and its shareable package."""
    return [f"results/report/{name}" for name in ("report.html", "summary.tsv", "manifest.json")] + [
        "results/package.tar.gz"
    ] + get_merged_vcfs(wildcards)


def get_merged_vcfs(wildcards):
    """The study VCF of every part when write_vcf is set (else none)."""
    return [f"results/merged_vcf/{folder}/edits.vcf.gz" for folder in sorted(MERGED_VCF)]


def get_merge_vcf_inputs(wildcards):
    """The summaries of the part's on-target samples: their folders hold the edits.vcf.gz to merge."""
    samples = MERGED_VCF[wildcards.vcf_folder]
    return [f"results/ontarget/{sample}/summary.json" for sample in samples]


def get_merge_vcf_sources(wildcards, input):
    """The on-target sample folders of the part, in the sheet's order (the VCF's sample columns)."""
    return " ".join(shlex.quote(os.path.dirname(path)) for path in input)


def get_ontarget_reads(wildcards):
    """R1 (and R2, if given), or the BAM, of one on-target sample."""
    if STUDY is not None:
        sample = ONTARGET_SAMPLES[wildcards.sample]
        files = {"r1": sample.r1, "r2": sample.r2, "bam": sample.bam}
        return {key: str(path) for key, path in files.items() if path is not None}
    sample = ONTARGET_SAMPLES.loc[wildcards.sample]
    reads = {"r1": sample["r1"]}
    if not pd.isna(sample.get("r2")):
        reads["r2"] = sample["r2"]
    return reads


def get_reads_option(wildcards, input):
    """--r1 (and --r2), or --bam with its --site, of one on-target sample."""
    if "bam" in input.keys():
        locus = ONTARGET_SAMPLES[wildcards.sample].locus
        return f"--bam {shlex.quote(input.bam)} --site {shlex.quote(locus)}"
    r2 = f" --r2 {shlex.quote(input.r2)}" if "r2" in input.keys() else ""
    return f"--r1 {shlex.quote(input.r1)}{r2}"


def get_design_files(wildcards):
    """The design's files: the designs sheet of a study, or the amplicon FASTA of a one-design config
    (nothing when the config gives the sequence itself)."""
    if STUDY is not None:
        return [str(STUDY.designs_sheet)]
    amplicon = ONTARGET["amplicon"]
    return [amplicon] if not re.fullmatch(r"[ACGTNacgtn]+", amplicon) else []


def extra_arguments(text, section):
    """The words of a config `extra` string, split as a shell would but never run by one: each is
    passed quoted, as one argument. The output folder belongs to the workflow."""
    try:
        words = shlex.split(text or "")
    except ValueError as error:
        raise WorkflowError(f"config {section}.extra: {error} in {text!r}")
    for word in words:
        if word in ("-o", "--out") or word.startswith(("--out=", "-o")):
            raise WorkflowError(
                f"config {section}.extra: {word!r}: the output folder is set by the workflow"
            )
    return words


def input_amount_options(sample, sheet):
    """--input-copies or --input-ng from a sample's sheet row (the schema checked the numbers)."""
    copies, ng = sample.get("input_copies"), sample.get("input_ng")
    if not pd.isna(copies) and not pd.isna(ng):
        raise sheet_error(sheet, f"sample {sample['sample']}: give input_copies or input_ng, not both")
    if not pd.isna(copies):
        return ["--input-copies", copies]
    if not pd.isna(ng):
        return ["--input-ng", ng]
    return []


def get_quantify_options(wildcards):
    """The design and analysis options of `editcheck quantify`: in a study, the sample's row of the designs
    sheet and its metadata; else from the config."""
    if STUDY is not None:
        sample = ONTARGET_SAMPLES[wildcards.sample]
        options = ["--design-sheet", STUDY.designs_sheet, "--design", sample.design_id]
        options += [word for key, value in sample.metadata for word in ("--metadata", f"{key}={value}")]
        options += ["--min-base-quality", STUDY_SETTINGS["min_base_quality"]]
        options += ["--max-read-length", STUDY_SETTINGS["max_read_length"]]
        options += ["--segment-reads", STUDY_SETTINGS["segment_reads"]]
        options += [word for column in ("input_copies", "input_ng") if getattr(sample, column)
                    for word in (f"--{column.replace('_', '-')}", getattr(sample, column))]  # fmt: skip
        options += extra_arguments(STUDY_SETTINGS["extra"], "study")
        return " ".join(shlex.quote(str(option)) for option in options)
    options = ["-a", ONTARGET["amplicon"], "-g", ONTARGET["guide"], "--cut-offset", ONTARGET["cut_offset"]]
    if ONTARGET["base_editor"] is not None:
        options += ["--base-editor", ONTARGET["base_editor"]]
    if ONTARGET["editing_window"] is not None:
        options += ["--editing-window", ONTARGET["editing_window"]]
    if ONTARGET["target_protospacer_position"] is not None:
        options += [
            "--target-protospacer-position",
            ONTARGET["target_protospacer_position"],
        ]
    options += ["--min-base-quality", ONTARGET["min_base_quality"]]
    options += ["--max-read-length", ONTARGET["max_read_length"]]
    options += ["--segment-reads", ONTARGET["segment_reads"]]
    options += input_amount_options(ONTARGET_SAMPLES.loc[wildcards.sample], ONTARGET["samples"])
    options += extra_arguments(ONTARGET["extra"], "ontarget")
    return " ".join(shlex.quote(str(option)) for option in options)


def panel_samples(part):
    """The panel samples of one report part, as (name, [reads files]) pairs."""
    if STUDY is not None:
        samples = STUDY.samples_of(PARTS[part]["design"], study_model.OFF_TARGET_PANEL)
        return [(sample.sample, [str(path) for path in (sample.r1, sample.r2, sample.bam) if path is not None])
                for sample in samples]  # fmt: skip
    columns = [column for column in ("r1", "r2") if column in PANEL_SAMPLES.columns]
    return [(name, [sample[column] for column in columns if not pd.isna(sample[column])])
            for name, sample in PANEL_SAMPLES.iterrows()]  # fmt: skip


def get_site_sheet(wildcards):
    if STUDY is not None:
        return str(STUDY.designs[PARTS[wildcards.part]["design"]].offtarget_sites)
    return OFFTARGET["sites"]


def get_panel_sheet(wildcards):
    """The panel's sample sheet: the config's, or the one written from a study's samples sheet."""
    if STUDY is not None:
        return f"results/study/{PARTS[wildcards.part]['design']}/panel_samples.tsv"
    return OFFTARGET["samples"]


def get_panel_reads(wildcards):
    """Every reads file of the panel samples (so a changed FASTQ reruns the panel)."""
    return sorted(path for _, paths in panel_samples(wildcards.part) for path in paths)


def get_reference_option(wildcards):
    """--reference of a study design's genome FASTA (BAM/CRAM panel samples), if the designs sheet gives one."""
    if STUDY is None:
        return ""
    reference = STUDY.designs[PARTS[wildcards.part]["design"]].reference
    return "" if reference is None else f"--reference {shlex.quote(str(reference))}"


def get_offtarget_options(wildcards):
    """The analysis options of `editcheck offtarget`, from the config."""
    options = [
        "--min-base-quality", OFFTARGET["min_base_quality"], "--min-site-reads", OFFTARGET["min_site_reads"],
        "--min-effect", OFFTARGET["min_effect"], "--q-threshold", OFFTARGET["q_threshold"],
        "--max-read-length", OFFTARGET["max_read_length"],
    ]  # fmt: skip
    options += extra_arguments(OFFTARGET["extra"], "offtarget")
    return " ".join(shlex.quote(str(option)) for option in options)


def get_report_inputs(wildcards):
    """The on-target summaries of every sample, the off-target calls of every panel and (in a study) the study's
    two sheets, which say which design each sample belongs to."""
    inputs = {
        "ontarget": expand("results/ontarget/{sample}/summary.json", sample=[name for part in PARTS.values() for name in part["samples"]]),
        "offtarget": [f"results/offtarget/{name}offtarget_calls.json" for name, part in PARTS.items() if part["panel"]],
    }  # fmt: skip
    if STUDY is not None:
        inputs["designs"] = str(STUDY.designs_sheet)
        inputs["samples"] = str(STUDY.samples_sheet)
    return inputs


def get_report_sources(wildcards, input):
    """--ontarget DIR for every sample, and --offtarget DIR for every panel, taken from the input files' folders."""
    folders = [f"--ontarget {shlex.quote(os.path.dirname(path))}" for path in input.ontarget]
    folders += [f"--offtarget {shlex.quote(os.path.dirname(path))}" for path in input.offtarget]
    return " ".join(folders)


def get_report_options(wildcards, input):
    """The title, the sheets that give each sample's design and condition (a study's two sheets, or the
    one-design sample sheet) and further options of `editcheck report`, from the config."""
    settings = config["report"]
    title = [] if settings["title"] is None else ["--title", shlex.quote(settings["title"])]
    if STUDY is not None:
        sheets = ["--study-designs", shlex.quote(input.designs), "--study-samples", shlex.quote(input.samples)]
    else:
        sheets = ["--samples", shlex.quote(str(ONTARGET["samples"]))]
    extra = [shlex.quote(option) for option in extra_arguments(settings["extra"], "report")]
    return " ".join([*title, *sheets, *extra])


def get_package_sources(wildcards, input):
    """The result folders of the package: the report, every on-target sample, the panels and the study VCFs."""
    paths = [input.report, *input.ontarget, *input.offtarget, *input.merged_vcf]
    return " ".join(shlex.quote(os.path.dirname(path)) for path in paths)


def get_package_sheets(wildcards):
    """--sheet for every sheet and the amplicon file of the config: their checksums go into the manifest."""
    if STUDY is not None:
        sheets = [STUDY_SETTINGS["designs"], STUDY_SETTINGS["samples"]]
    else:
        sheets = [ONTARGET["samples"], ONTARGET.get("amplicon")]
        if OFFTARGET is not None:
            sheets += [OFFTARGET["samples"], OFFTARGET["sites"]]
    return " ".join(f"--sheet {shlex.quote(str(path))}" for path in sheets if path and os.path.isfile(path))


def get_output_folder(wildcards, output):
    """The folder of a rule's first output: `editcheck` commands write a folder of files."""
    return shlex.quote(os.path.dirname(output[0]))


# Memory requests that follow the input: editcheck keeps every unique read until the sample is counted, at
# most 3 KB each (peak RSS per unique sequence, benchmarks/scale.py: 10M 2x150 pairs, 462,667 unique, 2.7 KB;
# 10M single-end 250-bp reads, 791,692 unique, 1.2 KB); a larger input is run in segments (--segment-reads).
MEM_BASE_MB = 500
MEM_PER_UNIQUE_READ_KB = 3
FASTQ_BYTES_PER_READ = 550  # a 250-bp FASTQ record, uncompressed
GZIP_RATIO = 4  # FASTQ.gz holds about 4x its size in FASTQ
UNIQUE_FRACTION = 0.35  # unique / all reads at 0.5% sequencing error (about 0.12 at 0.2%)


def reads_mem_mb(paths, floor_mb, attempt=1, segment_reads=None):
    """MB to request for analysing the reads files `paths` together: room for the unique reads their
    size allows (never below `floor_mb`), doubled on each retry of a job that ran out of memory.  With
    `segment_reads`, a FASTQ file of more reads than `quantify --segment-reads` runs whole counts as
    that many: a larger input is analysed a segment at a time, in the memory of one segment."""
    largest = SEGMENTED_ABOVE * segment_reads if segment_reads else float("inf")
    reads = sum(
        min(largest, os.path.getsize(path) * (GZIP_RATIO if str(path).endswith(".gz") else 1) / FASTQ_BYTES_PER_READ)
        for path in paths
    )
    unique_reads = UNIQUE_FRACTION * reads
    estimate = MEM_BASE_MB + int(unique_reads * MEM_PER_UNIQUE_READ_KB / 1024 + 0.999)
    return max(floor_mb, estimate) * attempt


def get_ontarget_mem_mb(wildcards, input, attempt):
    """Memory of one on-target sample: its R1 and R2 together (a BAM site: the floor)."""
    if "bam" in input.keys():
        return reads_mem_mb([], 2000, attempt)
    segment_reads = (STUDY_SETTINGS if STUDY is not None else ONTARGET)["segment_reads"]
    mates = [input.r1, *([input.r2] if "r2" in input.keys() else [])]
    return reads_mem_mb(mates, 2000, attempt, segment_reads)


def get_panel_mem_mb(wildcards, attempt):
    """Memory of the off-target panel: its samples are analysed one after another, so the largest decides."""
    largest = max(reads_mem_mb(paths, 4000) for _, paths in panel_samples(wildcards.part))
    return largest * attempt
