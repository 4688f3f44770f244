"""The workflow's memory requests follow the size of the reads (issue #8, item 9)."""

from __future__ import annotations

import re
from pathlib import Path

from test_workflow import DEMO, make_workdir, needs_snakemake, read_tsv, run_snakemake, write_tsv


def planned_memory(output: str) -> dict[str, int]:
    """Dry-run output -> mem_mb of every job, keyed by rule (and sample for per-sample rules)."""
    memory = {}
    for block in output.split("\nrule ")[1:]:
        rule = block.split(":", 1)[0]
        sample = re.search(r"wildcards: sample=(\S+)", block)
        found = re.search(r"resources: .*\bmem_mb=(\d+)", block)
        if found:
            memory[rule if sample is None else f"{rule}/{sample.group(1)}"] = int(found.group(1))
    return memory


@needs_snakemake
def test_memory_request_grows_with_the_reads(tmp_path: Path) -> None:
    workdir = make_workdir(tmp_path / "run")
    big = tmp_path / "big.fastq.gz"
    with open(big, "wb") as handle:  # a sparse 1 GB file: a dry run never reads it
        handle.truncate(10**9)
    rows = read_tsv(workdir / "samples.tsv")
    rows.append({**rows[0], "sample": "BIG", "r1": str(big)})
    write_tsv(workdir / "samples.tsv", rows)
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    memory = planned_memory(result.stdout)
    # 1 GB of FASTQ.gz ~ 4 GB of FASTQ ~ 7.3 M 250-bp reads; up to 35% unique at 3 KB each, + 500 MB.
    assert memory["quantify_ontarget/BIG"] == 500 + 7458
    # The demo's small samples keep the floor of 2,000 MB; the panel's largest sample decides its request.
    assert memory["quantify_ontarget/T1"] == 2000
    assert memory["offtarget_panel"] == 4000
    assert (DEMO / "ontarget" / "T1.fastq.gz").stat().st_size < 10**7


@needs_snakemake
def test_memory_request_stops_growing_where_the_input_is_run_in_segments(tmp_path: Path) -> None:
    """A sample above 1.5 x segment_reads reads is run a segment at a time: its request is that of one segment's
    worth of reads, and `segment_reads` from the config reaches `editcheck quantify`."""
    import yaml

    workdir = make_workdir(tmp_path / "run")
    huge = tmp_path / "huge.fastq.gz"
    with open(huge, "wb") as handle:  # a sparse 30 GB file (~218 M reads): a dry run never reads it
        handle.truncate(30 * 10**9)
    rows = read_tsv(workdir / "samples.tsv")
    rows.append({**rows[0], "sample": "HUGE", "r1": str(huge)})
    write_tsv(workdir / "samples.tsv", rows)
    planned = {}
    for segment_reads in (None, 2_000_000):
        if segment_reads is not None:
            config = yaml.safe_load((workdir / "config.yaml").read_text())
            config["ontarget"]["segment_reads"] = segment_reads
            (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        result = run_snakemake(workdir, "--dry-run", "--printshellcmds")
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        planned[segment_reads] = planned_memory(result.stdout)["quantify_ontarget/HUGE"]
        assert f"--segment-reads {segment_reads or 10_000_000}" in result.stdout
    # The default 10M-read segments: 15 M reads counted (35% unique at 3 KB each); 2M-read segments: 3 M.
    assert planned == {None: 500 + 15381, 2_000_000: 500 + 3077}
