"""The fields of every input that is not an architecture: measurement settings, the Fig. 3 lab's block,
the batch-size sweep. Plain Python (no torch), so the CLI's parser and the app's widgets read the same
bounds, labels and help as the library's validation without importing torch. The architecture's own
fields are ``explorer.core.spec.SPEC_FIELDS``.
"""

from __future__ import annotations

from .fields import Field
from .spec import MAX_SIDE, MAX_WIDTH

DTYPE_NAMES = ("float32", "float16", "bfloat16")
MAX_BATCH = 65_536  # a measured batch: it must fit a device
MAX_COUNTED_BATCH = 2**31 - 1  # a counted batch (analysis, training cost, other tools): no device involved
COUNTED_BATCH = Field("batch_size", "Batch size", "images in the batch", "int", 1, MAX_COUNTED_BATCH)
MAX_RUNS = 100_000  # a hard cap, so a tiny model on a fast GPU cannot fill memory with timings
MAX_PATHS = 1024  # form (a) builds 3 modules per path: beyond this building alone takes seconds

SETTINGS_FIELDS: dict[str, Field] = {f.key: f for f in (
    Field("device", "Device", "where the model runs: cpu, cuda, cuda:N or mps (GPUs appear when present)", "text",
          1, 40),
    Field("dtype", "dtype", "weights and input precision; only the dtypes the device runs natively are offered",
          "choice", choices=DTYPE_NAMES),
    Field("batch_size", "Batch size", "images per forward pass", "int", 1, MAX_BATCH),
    Field("channels_last", "channels_last", "NHWC memory format, often faster on GPUs and with bfloat16", "bool"),
    Field("threads", "CPU threads", "intra-op threads for a CPU measurement. On a busy shared CPU, 1 thread gives "
          "steadier numbers: several threads wait on each other when another process runs", "int", 1, 1024),
    Field("warmup", "Warm-up runs", "untimed runs first", "int", 0, 10_000),
    Field("min_runs", "Minimum runs", "timed runs at least", "int", 1, MAX_RUNS),
    Field("min_seconds", "Minimum seconds", "timed work at least", "float", 0, 86_400),
    Field("max_seconds", "Time limit (s)", "bound on warm-up plus timed runs, in seconds", "float", 1e-3, 86_400),
)}

BLOCK_FIELDS: dict[str, Field] = {f.key: f for f in (
    Field("cardinality", "Cardinality C", "number of paths (groups)", "int", 1, MAX_PATHS),
    Field("d", "Width d", "channels per path", "int", 1, MAX_WIDTH),
    Field("channels", "Channels in/out", "the block's input and output channels", "int", 1, MAX_WIDTH),
    Field("size", "Spatial size", "height = width of the block's input", "int", 1, MAX_SIDE),
    Field("batch_size", "Batch size", "images in the comparison (train mode needs 2 for BN's statistics)", "int",
          1, 1024),
    Field("train", "Train mode", "BN uses the batch's statistics instead of the running ones; the forms still "
          "agree", "bool"),
)}

# The Fig. 3 block the lab starts from (ResNeXt-50's conv2 block, Fig. 3's own), and the check's two images.
BLOCK_DEFAULTS = {"cardinality": 32, "d": 4, "channels": 256, "size": 56, "batch_size": 2}

SWEEP_FIELDS: dict[str, Field] = {f.key: f for f in (
    Field("batch_sizes", "Batch sizes", "measured in increasing order", "ints", 1, MAX_BATCH),
    Field("time_budget_s", "Time budget (s)", "bound on the whole sweep, in seconds", "float", 1, 600),
)}

__all__ = ["BLOCK_DEFAULTS", "BLOCK_FIELDS", "COUNTED_BATCH", "DTYPE_NAMES", "MAX_BATCH", "MAX_COUNTED_BATCH", "MAX_PATHS", "MAX_RUNS", "SETTINGS_FIELDS", "SWEEP_FIELDS"]
