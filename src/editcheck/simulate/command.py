"""What ``editcheck simulate`` writes: reads of a random design (nuclease with HDR, base editor or prime
editor) with the amplicon FASTA, the truth JSON and the ``editcheck quantify`` options that analyse them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editcheck.errors import ParameterError
from editcheck.outputs import atomic_output, write_json
from editcheck.simulate.amplicon import simulate
from editcheck.simulate.designs import SimulationDesign, random_design
from editcheck.simulate.outcomes import BaseEditorSpec, OutcomeMix
from editcheck.simulate.prime import PrimeEditSpec

#: Base editors of the command line: conversion on the guide strand and default target position.
BASE_EDITORS = {"ABE": (("A", "G"), 5), "CBE": (("C", "T"), 6)}


@dataclass(frozen=True)
class ReadRequest:
    """The command line's choices (see ``editcheck simulate --help``)."""

    n_reads: int = 10000
    paired: bool = False
    read_length: int | None = None
    error_rate: float = 0.002
    seed: int = 1
    design_seed: int = 2024
    no_donor: bool = False
    base_editor: str | None = None
    target_position: int | None = None
    editing_window: str = "4-8"
    target_rate: float = 0.42
    bystander_rate: float = 0.3
    indel_rate: float = 0.04
    prime_edit: str | None = None
    prime_edit_rate: float = 0.4
    template_molecules: int = 0
    low_quality_rate: float = 0.0


def parse_window(text: str) -> tuple[int, int]:
    """``4-8`` -> (4, 8): protospacer positions 1-20."""
    parts = text.replace(" ", "").split("-")
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        raise ParameterError(f"--editing-window must be two protospacer positions such as 4-8, got {text!r}")
    low, high = int(parts[0]), int(parts[1])
    if not 1 <= low <= high <= 20:
        raise ParameterError(f"--editing-window must satisfy 1 <= start <= end <= 20, got {text!r}")
    return low, high


def _rate(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ParameterError(f"{name} must be a fraction between 0 and 1, got {value!r}")
    return value


def indel_mix(indel_rate: float, **shares: float) -> OutcomeMix:
    """Indels (3:1 deletions to insertions) at ``indel_rate``, the rest as ``shares`` (unmodified gets the remainder)."""
    _rate("--indel-rate", indel_rate)
    rest = 1.0 - indel_rate - sum(shares.values())
    if rest < -1e-9:
        raise ParameterError(f"the rates add up to more than 1 (indels {indel_rate:g} + {sum(shares.values()):g})")
    return OutcomeMix(unmodified=max(rest, 0.0), deletion=0.75 * indel_rate, insertion=0.25 * indel_rate,
                      substitution=0.0, hdr=0.0, **shares)  # fmt: skip


def base_editor_spec(request: ReadRequest) -> BaseEditorSpec:
    """The base editor asked for: its conversion, window, target protospacer position and rates."""
    if request.base_editor not in BASE_EDITORS:
        raise ParameterError(f"--base-editor must be one of {', '.join(BASE_EDITORS)}, got {request.base_editor!r}")
    conversion, default_target = BASE_EDITORS[request.base_editor]
    window = parse_window(request.editing_window)
    target = request.target_position if request.target_position is not None else default_target
    if not window[0] <= target <= window[1]:
        raise ParameterError(f"--target-position {target} lies outside the editing window {window[0]}-{window[1]}")
    return BaseEditorSpec(conversion, window, target, _rate("--target-rate", request.target_rate),
                          _rate("--bystander-rate", request.bystander_rate))  # fmt: skip


def _design(request: ReadRequest, editor: BaseEditorSpec | None) -> SimulationDesign:
    if editor is None:
        return random_design(seed=request.design_seed, with_donor=not (request.no_donor or request.prime_edit))
    source = editor.conversion[0]
    bystander = next((p for p in range(editor.window[0], editor.window[1] + 1) if p != editor.target), None)
    editable = {editor.target: source} | ({bystander: source} if bystander is not None else {})
    return random_design(seed=request.design_seed, with_donor=False, editable=editable)


def quantify_options(design: SimulationDesign, editor: BaseEditorSpec | None, pegrna: dict[str, Any] | None,
                     prefix: str) -> list[str]:  # fmt: skip
    """The ``editcheck quantify`` options (besides the reads and -o) that analyse the simulated reads."""
    options = ["-a", f"{prefix}.amplicon.fa", "-g", design.guide]
    if editor is not None:
        name = next(
            (key for key, (conversion, _) in BASE_EDITORS.items() if conversion == editor.conversion), editor.label
        )
        options += ["--base-editor", name, "--editing-window", f"{editor.window[0]}-{editor.window[1]}",
                    "--target-protospacer-position", str(editor.target)]  # fmt: skip
    elif pegrna is not None:
        options += ["--pegrna-spacer", pegrna["pegrna_spacer"], "--pegrna-extension", pegrna["pegrna_extension"]]
    elif design.donor_amplicon:
        options += ["-e", f"{prefix}.hdr_amplicon.fa"]
    return options


def simulate_reads(request: ReadRequest, folder: Path, prefix: str) -> dict[str, Any]:
    """Write ``{prefix}_R1.fastq.gz`` (and R2), ``{prefix}.amplicon.fa`` (and the HDR amplicon), and
    ``{prefix}.truth.json`` into ``folder``; return the truth."""
    if request.base_editor and request.prime_edit:
        raise ParameterError("give --base-editor or --prime-edit, not both")
    editor = base_editor_spec(request) if request.base_editor else None
    prime = PrimeEditSpec.named(request.prime_edit) if request.prime_edit else None
    design = _design(request, editor)
    if editor is not None:
        mix: OutcomeMix | None = indel_mix(request.indel_rate, base_edit=1.0 - request.indel_rate)
    elif prime is not None:
        mix = indel_mix(request.indel_rate, prime_edit=_rate("--prime-edit-rate", request.prime_edit_rate))
    else:
        mix = None
    r1 = folder / f"{prefix}_R1.fastq.gz"
    r2 = folder / f"{prefix}_R2.fastq.gz" if request.paired else None
    length = request.read_length or (150 if request.paired else 250)
    truth = simulate(design, request.n_reads, r1, r2, mix=mix, error_rate=request.error_rate, read_length=length,
                     seed=request.seed, base_editor=editor, prime_editor=prime,
                     template_molecules=request.template_molecules,
                     low_quality_rate=request.low_quality_rate)  # fmt: skip
    truth["quantify_options"] = quantify_options(design, editor, truth.get("prime_editing"), prefix)
    write_json(folder / f"{prefix}.truth.json", truth)
    with atomic_output(folder / f"{prefix}.amplicon.fa") as handle:
        handle.write(f">{prefix}_amplicon\n{design.amplicon}\n")
    if design.donor_amplicon:
        with atomic_output(folder / f"{prefix}.hdr_amplicon.fa") as handle:
            handle.write(f">{prefix}_hdr_amplicon\n{design.donor_amplicon}\n")
    return truth
