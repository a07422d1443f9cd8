"""Pipeline schedules: the order in which one pipeline rank runs forward and backward passes
of (micro-batch, model chunk), as Megatron-LM runs them.

* 1F1B (PipeDream-Flush): rank i runs min(p - i - 1, m) warm-up forwards, then alternates one
  forward and one backward, then drains the remaining backwards. With equal stage times the
  idle fraction is (p - 1) / (m + p - 1).
* Interleaved 1F1B (Narayanan et al. SC'21 §2.2): each rank holds v chunks (chunk c of rank i
  is model stage c·p + i); forwards go through the chunks in groups of p micro-batches,
  backwards through the chunks in reverse; warm-up is (p - i - 1)·2 + (v - 1)·p forwards. The
  bubble shrinks by v. Needs m to be a multiple of p.
"""

from __future__ import annotations


def forward_order(m: int, p: int, v: int) -> list[tuple[int, int]]:
    """(micro-batch, chunk) of the k-th forward on any rank."""
    if v == 1:
        return [(mb, 0) for mb in range(m)]
    order = []
    for k in range(m * v):
        group, within = divmod(k, p * v)
        chunk = within // p
        order.append((group * p + within % p, chunk))
    return order


def backward_order(m: int, p: int, v: int) -> list[tuple[int, int]]:
    return [(mb, v - 1 - chunk) for mb, chunk in forward_order(m, p, v)]


def schedule(rank: int, m: int, p: int, v: int = 1) -> list[tuple[str, int, int]]:
    """('F' | 'B', micro-batch, chunk) in the order pipeline rank ``rank`` runs them."""
    fwd, bwd = forward_order(m, p, v), backward_order(m, p, v)
    total = m * v
    if v == 1:
        warmup = min(p - rank - 1, m)
    else:
        warmup = min((p - rank - 1) * 2 + (v - 1) * p, total)
    steps = [("F", *fwd[k]) for k in range(warmup)]
    f, b = warmup, 0
    while f < total:
        steps.append(("F", *fwd[f]))
        f += 1
        steps.append(("B", *bwd[b]))
        b += 1
    steps += [("B", *bwd[k]) for k in range(b, total)]
    return steps
