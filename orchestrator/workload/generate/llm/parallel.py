"""The 4-D (+ expert) split of an LLM training job and the rank -> coordinates mapping.

``order`` lists the dimensions from innermost (fastest-varying rank) outwards; the default
``tp-cp-ep-dp-pp`` (Megatron-LM's) keeps a tensor-parallel group on consecutive ranks, i.e.
inside one node. Expert parallelism subdivides data parallelism (the experts of a MoE layer
are spread over ``ep`` of the ``dp`` replicas), so ``ep`` must divide ``dp`` and the two must
be adjacent in ``order``; the data-parallel group of a rank is all ``dp`` ranks that differ
only in their ep and dp coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.errors import InputError
from orchestrator.limits import MAX_COUNT, MAX_NPUS

DIMENSIONS = ("tp", "cp", "ep", "dp", "pp")
DEFAULT_ORDER = "tp-cp-ep-dp-pp"
SCHEDULES = ("1f1b", "interleaved")
RECOMPUTE = ("none", "selective", "full")


@dataclass(frozen=True, slots=True)
class ParallelConfig:
    tp: int = 1
    pp: int = 1
    dp: int = 1
    cp: int = 1
    ep: int = 1
    sequence_parallel: bool = False
    virtual_stages: int = 1          # model chunks per pipeline rank (interleaved 1F1B)
    zero: int = 0                    # 0: all-reduce; 1, 2: sharded optimizer (+grads); 3: params
    recompute: str = "none"
    micro_batch: int = 1
    global_batch: int = 1
    seq: int = 2048
    order: str = DEFAULT_ORDER
    dp_overlap: bool = False         # gradient reduction overlapped with the last backward
    grad_bytes: int = 4              # bytes per gradient element in the DP reduction
    scatter_gather: bool = True      # each TP rank sends 1/tp of the activations between stages
    p2p_overlap: bool = False        # stage-to-stage sends overlap compute (else they block)
    tp_overlap: bool = False         # TP collectives overlap their adjacent GEMM

    def activation_bytes(self, hidden: int, element_bytes: int = 2) -> int:
        """Bytes one rank sends to the next pipeline stage per micro-batch: b·s/cp·h·B, split
        over the TP ranks by Megatron's scatter-gather optimisation (SC'21 §4.1), whole
        without it."""
        whole = self.micro_batch * self.seq // self.cp * hidden * element_bytes
        return whole // self.tp if self.scatter_gather else whole

    @property
    def gpus(self) -> int:
        return self.tp * self.pp * self.dp * self.cp

    @property
    def micro_batches(self) -> int:
        return self.global_batch // (self.dp * self.micro_batch)

    @property
    def schedule(self) -> str:
        return "interleaved" if self.virtual_stages > 1 else "1f1b"

    def sizes(self) -> dict[str, int]:
        return {"tp": self.tp, "cp": self.cp, "ep": self.ep, "dp": self.dp // self.ep,
                "pp": self.pp}

    def dims(self) -> list[str]:
        return self.order.split("-")

    def strides(self) -> dict[str, int]:
        sizes, stride, out = self.sizes(), 1, {}
        for dim in self.dims():
            out[dim] = stride
            stride *= sizes[dim]
        return out

    def coords(self, rank: int) -> dict[str, int]:
        sizes, strides = self.sizes(), self.strides()
        return {dim: rank // strides[dim] % sizes[dim] for dim in DIMENSIONS}

    def group(self, rank: int, kind: str) -> list[int]:
        """The ranks in ``rank``'s group of ``kind`` (tp, cp, ep, pp, or dp = ep x dp)."""
        varying = ("ep", "dp") if kind == "dp" else (kind,)
        sizes, strides = self.sizes(), self.strides()
        base = rank - sum(self.coords(rank)[d] * strides[d] for d in varying)
        members = [base]
        for dim in varying:
            members = [m + i * strides[dim] for m in members for i in range(sizes[dim])]
        return sorted(members)

    def group_stride(self, kind: str) -> int:
        """The rank distance between consecutive members of a group of ``kind``."""
        strides = self.strides()
        return min(strides["ep"], strides["dp"]) if kind == "dp" else strides[kind]

    def group_size(self, kind: str) -> int:
        return self.dp if kind == "dp" else self.sizes()[kind]


def stage_layers(layers: int, stages: int, stage: int) -> range:
    """The layers of model stage ``stage`` of ``stages``. An uneven split gives the extra
    layers to the middle stages, so the first and last (which also hold the embedding and
    the head) get fewer, as Llama 3 405B's 126 layers over 16 stages (7 at each end)."""
    base, extra = divmod(layers, stages)
    first_extra = 1 if extra <= stages - 2 else 0
    counts = [base + (1 if first_extra <= s < first_extra + extra else 0)
              for s in range(stages)]
    start = sum(counts[:stage])
    return range(start, start + counts[stage])


def validate(par: ParallelConfig, layers: int, heads: int, kv_heads: int, experts: int
             ) -> None:
    """One-line errors for splits that do not divide, in command-line terms."""
    def need(condition: bool, message: str) -> None:
        if not condition:
            raise InputError(message)
    for name in DIMENSIONS:
        need(getattr(par, name) >= 1, f"--{name}: expected a positive whole number")
    # before any division by them: --micro-batch 0 and --virtual-stages 0 were
    # ZeroDivisionErrors, --seq 0, --grad-bytes -4 and --virtual-stages -2 ran
    for name in ("micro_batch", "global_batch", "virtual_stages", "seq", "grad_bytes",
                 *DIMENSIONS):
        value = getattr(par, name)
        flag = "--" + name.replace("_", "-")
        need(value >= 1, f"{flag}: found {value}; expected a positive whole number")
        # (a large global batch is timed, and past 2^62 ns refused, by the predictor)
        need(value <= MAX_COUNT or name == "global_batch", f"{flag}: found {value}; expected "
             f"at most {MAX_COUNT} (2^31 - 1)")
    need(par.gpus <= MAX_NPUS, f"tp x pp x dp x cp = {par.gpus} GPUs; expected at most "
         f"{MAX_NPUS} (2^31 - 1)")
    dims = par.dims()
    need(sorted(dims) == sorted(DIMENSIONS), f"--order {par.order!r}: expected the five "
         f"dimensions {', '.join(DIMENSIONS)} joined by '-', innermost first")
    need(abs(dims.index("ep") - dims.index("dp")) == 1,
         f"--order {par.order!r}: ep and dp must be adjacent (ep subdivides dp)")
    need(par.dp % par.ep == 0, f"--ep {par.ep} must divide --dp {par.dp}")
    need(par.ep == 1 or experts > 0, "--ep > 1 needs a MoE model (experts > 0)")
    need(experts == 0 or experts % par.ep == 0, f"--ep {par.ep} must divide the {experts} "
         "experts")
    need(heads % par.tp == 0 and (kv_heads % par.tp == 0 or par.tp % kv_heads == 0),
         f"--tp {par.tp} must divide the {heads} attention heads (and the {kv_heads} KV heads "
         "divide or be divided by it)")
    need(layers >= par.pp * par.virtual_stages,
         f"{layers} layers do not fill --pp {par.pp} x --virtual-stages "
         f"{par.virtual_stages} model stages")
    need(par.seq % (2 * par.cp) == 0 or par.cp == 1, f"--seq {par.seq} must divide into "
         f"2 x --cp {par.cp} chunks (load-balanced causal context parallelism)")
    need(par.global_batch % (par.dp * par.micro_batch) == 0,
         f"--global-batch {par.global_batch} must be a multiple of --dp {par.dp} x "
         f"--micro-batch {par.micro_batch}")
    need(par.micro_batches >= 1, "no micro-batch per pipeline: raise --global-batch")
    need(par.virtual_stages == 1 or par.micro_batches % par.pp == 0,
         f"the interleaved schedule needs micro-batches ({par.micro_batches}) to be a "
         f"multiple of --pp {par.pp}")
    need(par.zero in (0, 1, 2, 3), f"--zero {par.zero}: expected 0, 1, 2 or 3")
    need(par.recompute in RECOMPUTE, f"--recompute {par.recompute!r}: expected one of "
         + ", ".join(RECOMPUTE))
