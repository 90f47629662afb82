"""The options the commands share (typer ``Annotated`` aliases), their enums and help panels."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class AnalyzeFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    dot = "dot"
    mermaid = "mermaid"


class CheckFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    github = "github"


class Backend(str, Enum):
    numpy = "numpy"
    torch = "torch"


class Device(str, Enum):
    cpu = "cpu"
    cuda = "cuda"
    auto = "auto"


class Optimizer(str, Enum):
    sgd = "sgd"
    momentum = "momentum"
    adam = "adam"
    adamw = "adamw"


class MemoryPlan(str, Enum):
    unfused = "unfused"
    fused = "fused"
    inplace = "inplace"


class DType(str, Enum):
    float32 = "float32"
    float16 = "float16"
    bfloat16 = "bfloat16"
    float64 = "float64"
    int8 = "int8"


OUT = "Output"

EXEC = "Execution (with --execute)"

SIZE = "Size"

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table (a terminal gets one fitted to its width; pipes and "
                                           "files get every column uncut), json, csv or markdown.", rich_help_panel=OUT)]  # fmt: skip

AnalyzeFormatOpt = Annotated[AnalyzeFormat, typer.Option("--format", "-f", help="table (a terminal gets one fitted to its width; pipes "
                                                         "and files get every column uncut), json, csv, markdown, or the network as a "
                                                         "graph: dot (Graphviz) or mermaid (Markdown renderers such as GitHub's).",
                                                         rich_help_panel=OUT)]  # fmt: skip

OutputOpt = Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to FILE (atomically) instead of standard output.",
                                                   dir_okay=False, rich_help_panel=OUT, show_default=False)]  # fmt: skip

BatchOpt = Annotated[int, typer.Option(min=1, max=10**9, help="Batch size in samples: MACs, activations, memory and bytes scale with it, "
                                       "params do not.", rich_help_panel=SIZE)]  # fmt: skip

DTypeOpt = Annotated[DType, typer.Option(help="Element type: the bytes per element of memory figures; with --execute also the "
                                         "type it runs in (numpy: float32/float64; torch: also float16/bfloat16 on cuda).",
                                         rich_help_panel=SIZE)]  # fmt: skip

MemoryPlanOpt = Annotated[Optional[MemoryPlan], typer.Option("--memory-plan", help="Peak memory as a runtime plans it: unfused (every "
                                                          "layer its own output, as PyTorch eager), fused (conv+bn+act, linear+act, add+act: "
                                                          "one tensor, as TFLite/TensorRT), inplace (also elementwise layers and depthwise "
                                                          "convs over their input, as TinyEngine). Adds where the peak is and the bytes alive "
                                                          "per layer. \\[default: unfused]", rich_help_panel=SIZE, show_default=False)]  # fmt: skip

ExecuteOpt = Annotated[bool, typer.Option("--execute", help="Build with random weights, run it, confirm every output shape, "
                                          "and time every layer.", rich_help_panel=EXEC)]  # fmt: skip

BackendOpt = Annotated[Optional[Backend], typer.Option(help="Where to run: numpy (always installed) or torch (convcost\\[torch]). "
                                                       "\\[default: numpy]", rich_help_panel=EXEC, show_default=False)]  # fmt: skip

DeviceOpt = Annotated[Optional[Device], typer.Option(help="cpu, cuda (torch only) or auto (cuda when torch sees a GPU). "
                                                     "\\[default: auto]", rich_help_panel=EXEC, show_default=False)]  # fmt: skip

WarmupOpt = Annotated[Optional[int], typer.Option(min=0, help="Untimed runs before timing, per layer. \\[default: 1]",
                                                  rich_help_panel=EXEC, show_default=False)]  # fmt: skip

RepeatOpt = Annotated[Optional[int], typer.Option(min=1, max=10_000, help="Timed runs per layer and end to end; the median is "
                                                  "shown with \\[min–max]. \\[default: 5]", rich_help_panel=EXEC, show_default=False)]  # fmt: skip

ThreadsOpt = Annotated[Optional[int], typer.Option(min=1, max=1024, help="CPU threads for BLAS / torch. \\[default: the library's]",
                                                   rich_help_panel=EXEC, show_default=False)]  # fmt: skip

PRED = "Prediction (roofline)"

ProfileOpt = Annotated[Optional[str], typer.Option("--device-profile", "-p", help="Predict each layer's time on this device: a "
                                                  "built-in id such as h100 or t4 "
                                                  "(`convcost profiles` lists them), a profile saved by `convcost calibrate`, or a profile "
                                                  "file (.yaml). Adds FLOPs per byte, predicted ms and the bound per layer.",
                                                  rich_help_panel=PRED, show_default=False)]  # fmt: skip

ROWS = "Rows (one model)"

DepthOpt = Annotated[Optional[int], typer.Option("--depth", min=1, max=64, help="Collapse the layers of each block below depth N into "
                                                 "one row named after the block (as torchinfo's depth=; depth = the parts of a "
                                                 "layer's name between dots).", rich_help_panel=ROWS, show_default=False)]  # fmt: skip

FoldOpt = Annotated[bool, typer.Option("--fold", help="Fold norms, activations and residual adds into the row of the layer they follow "
                                       "(conv+bn+relu).", rich_help_panel=ROWS)]  # fmt: skip

TopOpt = Annotated[Optional[int], typer.Option("--top", min=1, max=10**9, help="Only the N costliest rows: by MACs, or by predicted "
                                               "time with --device-profile.", rich_help_panel=ROWS, show_default=False)]  # fmt: skip

SummaryOpt = Annotated[bool, typer.Option("--summary", help="Totals and warnings only, no per-layer rows.", rich_help_panel=ROWS)]

SeedOpt = Annotated[Optional[int], typer.Option(min=0, max=2**63 - 1, help="Seed of the random weights and input. \\[default: 0]",
                                                rich_help_panel=EXEC, show_default=False)]  # fmt: skip

TRAIN = "Training"

TrainingOpt = Annotated[bool, typer.Option("--training", help="Add the backward pass of one training step: per layer the MACs of the "
                                           "gradients of its activations (∂input) and of its weights (∂weights), and the step's total "
                                           "(as torch's FlopCounterMode counts forward + backward).", rich_help_panel=TRAIN)]  # fmt: skip

FreezeOpt = Annotated[Optional[list[str]], typer.Option("--freeze", metavar="NAME", help="With --training: do not train this layer, or "
                                                        "every layer in this block (a name or path as analyze shows it: conv1, "
                                                        "layer1, layer1.0.conv1). Repeat it or separate names with commas.",
                                                        rich_help_panel=TRAIN, show_default=False)]  # fmt: skip

OptimizerOpt = Annotated[Optional[Optimizer], typer.Option("--optimizer", help="With --training: the optimizer whose state the "
                                                           "training memory counts: sgd (none), momentum (one buffer per trained "
                                                           "weight), adam/adamw (two, and a step count per weight tensor). "
                                                           "\\[default: sgd]", rich_help_panel=TRAIN, show_default=False)]  # fmt: skip

MaxParamsOpt = Annotated[Optional[str], typer.Option(help="At most this many parameters: 5M, 4.5M, 600K (K/M/G = 10³/10⁶/10⁹).",
                                                     show_default=False)]  # fmt: skip
MaxMacsOpt = Annotated[Optional[str], typer.Option(help="At most this many multiply-accumulates: 600M, 4.1G.", show_default=False)]
MaxFlopsOpt = Annotated[Optional[str], typer.Option(help="At most this many FLOPs (2 × MACs): 1.2G.", show_default=False)]
MaxPeakMemoryOpt = Annotated[Optional[str], typer.Option(help="At most this peak activation memory, with a unit: 64MiB, 1.5GB (KiB/MiB/GiB "
                                                         "= 2¹⁰/2²⁰/2³⁰ B; KB/MB/GB = 10³/10⁶/10⁹ B); see --memory-plan.",
                                                         show_default=False)]  # fmt: skip

WidthOpt = Annotated[Optional[float], typer.Option("--width", help="Scale every channel count by this (rounded to multiples of 8 as "
                                                   "torchvision rounds; the classifier's classes kept), as convcost fit does.",
                                                   rich_help_panel=SIZE, show_default=False)]  # fmt: skip
InputOpt = Annotated[Optional[str], typer.Option("--input", help="Use this input shape instead of the file's: C,H,W (e.g. 3,160,160).",
                                                 rich_help_panel=SIZE, show_default=False)]  # fmt: skip

ModelArg = Annotated[
    Path, typer.Argument(help="A model file (YAML), or zoo:NAME.", metavar="MODEL.yaml", dir_okay=False, show_default=False)
]
