"""Flat state buffers and the threaded runner behind the built-in optimisers.

An update rule is written once as a *kernel*: a few in-place NumPy ufunc calls (``out=``)
over equally long 1-d arrays — the parameter, its gradient, the state buffers and scratch
space. :class:`_FlatOptimizer` feeds it:

- every state buffer of a parameter group (one per dtype: a *bucket*) is one contiguous array,
  and each parameter owns a slice of it;
- the parameters and gradients stay where autograd and the model keep them: a kernel works on
  views into them, and runs of small parameters are gathered into scratch space (and scattered
  back), so that they cost one kernel call together rather than one each;
- calls are kept large — each NumPy call costs about a microsecond, while the cost per element
  of a pass hardly depends on whether the arrays fit in the L2 cache (measured here);
- a large step can be shared between threads (NumPy releases the GIL inside ufunc loops): on an
  idle two-core machine that takes a third off an Adam step, on a busy one it can make it
  several times slower, so each bucket times both ways and keeps the faster (:class:`_ThreadTimer`).

No array is allocated per step: scratch space lives with the bucket. An Adam step is ten
passes over memory in NumPy (see adam.py); PyTorch's fused kernel makes one, in registers. So
does an optimiser's ``_compiled_update`` where the C kernels were built (``_compiled.py``): it
is called on each piece where it lies, nothing gathered (:meth:`_FlatOptimizer._run_compiled`).
"""

import time
from collections.abc import Callable, Mapping
from typing import Any

from .optimizer import ParamsT
from .._backend import xp
from .._parallel import get_pool, num_threads
from .optimizer import Optimizer, _as_number

__all__ = []

_MAX_CHUNK = 1 << 19  # elements per kernel call at most (bounds the scratch space: a few MB)
_DIRECT_MIN = 1 << 14  # a piece of a parameter this long is updated in place; shorter ones are gathered
_PARALLEL_MIN_BYTES = 1 << 20  # below this a step is too short to share between threads


def _aligned_empty(n, dtype):
    """An uninitialised 1-d array whose data starts on a 64-byte boundary."""
    itemsize = xp.dtype(dtype).itemsize
    raw = xp.empty(n + 64 // itemsize, dtype)
    start = (-raw.ctypes.data % 64) // itemsize
    return raw[start : start + n]


class _Bucket:
    """The parameters of one group that share a dtype, and their flat state."""

    def __init__(self, params, dtype, n_scratch, threads):
        self.params = params
        self.arrays = [p._array for p in params]  # to notice a parameter whose array was replaced
        self.dtype = dtype
        self.sizes = [a.size for a in self.arrays]
        self.offsets = []
        total = 0
        for n in self.sizes:
            self.offsets.append(total)
            total += n
        self.size = total
        self.buffers = {}
        self.steps = [0] * len(params)
        self.scales = {}  # buffer name -> per-parameter scale of the stored values
        self.ready = {}  # buffer name -> per-parameter flag: holds a value (for buffers created from the first gradient)
        self.uniform = True  # every parameter has the same step, scales and flags (one kernel call per chunk works)
        self._subset_plans = {}
        self.compiled_shares = {}  # id(plan) -> (plan, pieces per thread) for a compiled kernel
        self.timer = _ThreadTimer()
        itemsize = xp.dtype(dtype).itemsize
        self.workers = threads if total * itemsize >= _PARALLEL_MIN_BYTES else 1
        # Shared among threads, the work is cut into one chunk per thread (finer cuts cost more in GIL
        # hand-overs than they gain, measured) that the threads take in turn: a thread that starts late
        # (or not at all, on a busy machine) leaves its chunk to the caller.
        shared = -(-total // self.workers)
        self.shared_chunk = min(_MAX_CHUNK, max(_DIRECT_MIN, -(-shared // 16) * 16))
        self.plan = self.make_plans(0, total)
        chunks = self.plan[0] + self.plan[1]
        longest = max([end - start for start, end, _ in chunks] + [1])
        gathered = max([end - start for start, end, segments in chunks if len(segments) > 1] + [1])
        if not all(a.flags.c_contiguous for a in self.arrays):
            gathered = longest  # a non-contiguous parameter is gathered, however long
        # per thread: the kernel's scratch arrays, then room to gather a chunk's parameters and gradients
        self.scratch = [
            [_aligned_empty(longest, dtype) for _ in range(n_scratch)] + [_aligned_empty(gathered, dtype) for _ in range(2)]
            for _ in range(self.workers)
        ]
        self.refresh_views()

    def refresh_views(self):
        """Flat views of the parameters' arrays (None for a non-contiguous one: gathered instead)."""
        self.flat = [a.reshape(-1) if a.flags.c_contiguous else None for a in self.arrays]

    def make_plans(self, start, end):
        """The work on [start, end): chunks for one thread, and finer ones to share among the threads."""
        alone = self.make_plan(start, end, _MAX_CHUNK)
        return alone, self.make_plan(start, end, self.shared_chunk) if self.workers > 1 else alone

    def make_plan(self, start, end, chunk):
        """The work on [start, end) of the flat state, as a list of chunks of at most ``chunk`` elements.

        A chunk is (flat start, flat end, segments), each segment (parameter index, local start,
        local end, offset in the chunk). Long parameters are cut into one-segment chunks, updated
        in place; runs of short ones are grouped into chunks that are gathered into scratch space
        (fewer, larger kernel calls: each NumPy call costs about a microsecond whatever its size).
        """
        chunks, group = [], []
        index = 0
        at = start
        while at < end:
            while self.offsets[index] + self.sizes[index] <= at:
                index += 1
            lo = at - self.offsets[index]
            hi = min(self.sizes[index], end - self.offsets[index])
            if self.sizes[index] >= _DIRECT_MIN:
                _flush(chunks, group)
                for piece in range(lo, hi, chunk):
                    top = min(piece + chunk, hi)
                    chunks.append((self.offsets[index] + piece, self.offsets[index] + top, [(index, piece, top, 0)]))
            else:
                if group and at + hi - lo - group[0][3] > chunk:
                    _flush(chunks, group)
                group.append((index, lo, hi, at))
            at += hi - lo
        _flush(chunks, group)
        return chunks

    def param_plan(self, i):
        return self.make_plans(self.offsets[i], self.offsets[i] + self.sizes[i])

    def check_uniform(self):
        self.uniform = self.uniform_among(range(len(self.params)))
        return self.uniform

    def uniform_among(self, indices):
        """Whether the parameters ``indices`` share step, scales and flags (so one kernel call can serve them)."""
        first = indices[0]
        for values in [self.steps, *self.scales.values(), *self.ready.values()]:
            value = values[first]
            if any(values[i] != value for i in indices):
                return False
        return True

    def subset_plan(self, indices):
        """Plans over the parameters ``indices`` only (those with a gradient this step), cached."""
        plans = self._subset_plans.get(indices)
        if plans is None:
            alone, shared, start = [], [], indices[0]
            for previous, i in zip(indices, indices[1:] + (None,)):
                if i != previous + 1:  # the end of a run of consecutive parameters
                    one, many = self.make_plans(self.offsets[start], self.offsets[previous] + self.sizes[previous])
                    alone += one
                    shared += many
                    start = i
            plans = self._subset_plans[indices] = (alone, shared)
        return plans


def _plan_size(plan):
    return max(1, sum(end - start for start, end, _ in plan))


class _ThreadTimer:
    """Chooses, step by step, between sharing a bucket's update among threads and doing it alone.

    Two threads take about a third off a large step on an idle two-core machine, but on a busy one a helper thread
    that is preempted in the middle of its chunk makes the caller wait for it (measured: 4 ms
    instead of 0.6). So both ways are timed (seconds per element, median of the last few runs),
    the faster is used, and the other is tried again every ``probe`` steps. The results are the
    same bit for bit either way: the update is elementwise.
    """

    def __init__(self, keep=8, probe=16):
        self.samples = {True: [], False: []}
        self.keep, self.probe, self.runs = keep, probe, 0

    def choose(self):
        self.runs += 1
        threaded, alone = self.samples[True], self.samples[False]
        if len(threaded) < 2:
            return True
        if len(alone) < 2:
            return False
        faster = sorted(threaded)[len(threaded) // 2] <= sorted(alone)[len(alone) // 2]
        return faster != (self.runs % self.probe == 0)

    def record(self, threaded, seconds_per_element):
        samples = self.samples[threaded]
        samples.append(seconds_per_element)
        if len(samples) > self.keep:
            del samples[0]


def _share(plan, count):
    """The pieces (parameter index, local start, local end, flat start) of ``plan`` dealt to ``count`` threads,
    largest first to the least loaded, each thread's pieces in memory order."""
    pieces = [(i, lo, hi, start + at) for start, _, segments in plan for i, lo, hi, at in segments]
    shares, loads = [[] for _ in range(count)], [0] * count
    for piece in sorted(pieces, key=lambda piece: piece[1] - piece[2]):
        k = loads.index(min(loads))
        shares[k].append(piece)
        loads[k] += piece[2] - piece[1]
    return [sorted(share, key=lambda piece: piece[3]) for share in shares]


def _flush(chunks, group):
    """Close a run of short parameter pieces ``group`` [(index, lo, hi, flat position)] into one gathered chunk."""
    if group:
        first, (_, lo, hi, last) = group[0][3], group[-1]
        chunks.append((first, last + hi - lo, [(i, lo, hi, at - first) for i, lo, hi, at in group]))
        group.clear()


class _StateView(Mapping):
    """``optimizer.state`` of a flat optimiser: each parameter's state as torch names and values (copies)."""

    def __init__(self, optimizer):
        self._optimizer = optimizer

    def __getitem__(self, p):
        state = self._optimizer._export_state(p)
        if state is None:
            raise KeyError(p)
        return state

    def __iter__(self):
        for group in self._optimizer.param_groups:
            for p in group["params"]:
                if self._optimizer._has_state(p):
                    yield p

    def __len__(self):
        return sum(1 for _ in self)

    def __contains__(self, p):
        return self._optimizer._has_state(p)

    def __repr__(self):
        return repr(dict(self))


class _FlatOptimizer(Optimizer):
    """An optimiser whose update is a kernel over flat arrays (see the module docstring).

    Subclasses define:
        _buffers(group): [(name, initial value or None)] — None: the buffer starts as the first
            (effective) gradient, as SGD's momentum buffer does.
        _new_scale(group, name): the scale s of the values stored for ``name`` after a step
            (the state is s × stored array; 1 unless a kernel saves passes by storing it scaled).
        _scalars(group, step, scales, ready): whatever the kernel needs for this step.
        _kernel(group, scal, p, g, bufs, scratch): the in-place update of one chunk.
        _n_scratch: how many scratch arrays the kernel uses.
        _has_step: whether "step" is part of the saved state.
    """

    _n_scratch = 2
    _has_step = True
    _all_buffers: tuple[str, ...] = ()
    _eager_state = False  # export state for parameters not yet stepped (Adagrad, as torch)

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self._plans: dict = {}
        self._where: dict = {}
        super().__init__(params, defaults)

    # ----- state ------------------------------------------------------------------
    @property
    def state(self):
        """Each parameter's state, as torch names it (copies: change it through load_state_dict)."""
        return _StateView(self)

    @state.setter
    def state(self, value):
        raise AttributeError(f"{type(self).__name__}.state is read-only; use load_state_dict")

    def _reset_state(self):
        self._plans = {}
        self._where = {}

    def state_dict(self) -> dict[str, Any]:
        """As :meth:`Optimizer.state_dict`; resuming from it continues bit for bit as this optimiser would.

        A kernel may keep a buffer scaled (Adam keeps m/(1 − β₁)). Saving first stores every
        buffer unscaled — the values saved — so this optimiser and one loaded from the dict hold
        the very same numbers from here on.
        """
        for gi in list(self._plans):
            for bucket in self._plans[gi][2]:
                for name, scales in bucket.scales.items():
                    if all(scale == 1.0 for scale in scales):
                        continue
                    flat = bucket.buffers[name]
                    if all(scale == scales[0] for scale in scales):
                        xp.multiply(flat, scales[0], out=flat)
                    else:
                        for i, scale in enumerate(scales):
                            part = flat[bucket.offsets[i] : bucket.offsets[i] + bucket.sizes[i]]
                            xp.multiply(part, scale, out=part)
                    bucket.scales[name] = [1.0] * len(scales)
                bucket.check_uniform()
        return super().state_dict()

    def _locate(self, p):
        """(bucket, index) of parameter ``p``, building its group's buckets if need be; None if not optimised."""
        if id(p) in self._where:
            return self._where[id(p)]
        for gi, group in enumerate(self.param_groups):
            if any(q is p for q in group["params"]):
                self._buckets(gi)
                return self._where.get(id(p))
        return None

    def _has_state(self, p):
        if self._eager_state:
            return self._locate(p) is not None
        where = self._where.get(id(p))
        return where is not None and where[0].steps[where[1]] > 0 and (self._has_step or bool(where[0].buffers))

    def _export_state(self, p):
        if not self._has_state(p):
            return None
        bucket, i = self._where.get(id(p)) or self._locate(p)
        state = {"step": bucket.steps[i]} if self._has_step else {}
        start, end, shape = bucket.offsets[i], bucket.offsets[i] + bucket.sizes[i], bucket.arrays[i].shape
        for name, flat in bucket.buffers.items():
            if not bucket.ready[name][i]:
                state[name] = None
                continue
            value = flat[start:end].reshape(shape)
            scale = bucket.scales[name][i]
            state[name] = value * scale if scale != 1.0 else value.copy()
        return state or None

    def _import_state(self, p, group, saved):
        where = self._locate(p)
        bucket, i = where
        start, end = bucket.offsets[i], bucket.offsets[i] + bucket.sizes[i]
        for name, value in saved.items():
            if name == "step":
                bucket.steps[i] = int(_as_number(value))
                continue
            if name not in self._all_buffers:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: unknown state entry {name!r}; "
                    f"expected 'step' or one of {list(self._all_buffers)}"
                )
            self._ensure_buffer(bucket, name, 0.0)
            if value is None:
                bucket.ready[name][i] = False
                continue
            array = xp.asarray(value._array if hasattr(value, "_array") else value)
            if array.size != bucket.sizes[i]:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: state {name!r} has {array.size} values; the parameter "
                    f"has {bucket.sizes[i]}"
                )
            xp.copyto(bucket.buffers[name][start:end], array.reshape(-1), casting="unsafe")
            bucket.scales[name][i] = 1.0  # stored as given: see state_dict()
            bucket.ready[name][i] = True
        if not self._has_step and any(bucket.ready[name][i] for name in bucket.buffers):
            bucket.steps[i] = max(bucket.steps[i], 1)
        bucket.check_uniform()

    # ----- buckets ----------------------------------------------------------------------
    def _ensure_buffer(self, bucket, name, init):
        if name in bucket.buffers:
            return
        flat = _aligned_empty(bucket.size, bucket.dtype)
        flat.fill(0.0 if init is None else init)
        bucket.buffers[name] = flat
        count = len(bucket.params)
        bucket.scales[name] = [1.0] * count
        bucket.ready[name] = [init is not None] * count

    def _buckets(self, gi):
        """The buckets of group ``gi``, rebuilt when its parameters, shapes or dtypes changed."""
        group = self.param_groups[gi]
        params = group["params"]
        cached = self._plans.get(gi)
        if cached is not None and cached[0] is params and len(cached[1]) == len(params):
            stale = False
            for p, q in zip(params, cached[1]):
                if p is not q:
                    stale = True
                    break
            if not stale:
                buckets = cached[2]
                for bucket in buckets:
                    arrays = bucket.arrays
                    for j, p in enumerate(bucket.params):
                        if p._array is not arrays[j]:
                            array = p._array
                            if array.shape != arrays[j].shape or array.dtype != bucket.dtype or not (
                                array.flags.c_contiguous or bucket.flat[j] is None
                            ):
                                stale = True  # (a newly non-contiguous array needs room to be gathered)
                                break
                            arrays[j] = array
                            bucket.flat[j] = array.reshape(-1) if array.flags.c_contiguous else None
                    if stale:
                        break
                if not stale:
                    return buckets
        return self._rebuild(gi)

    def _rebuild(self, gi):
        group = self.param_groups[gi]
        params = group["params"]
        saved = {}
        if gi in self._plans:
            for p in self._plans[gi][1]:
                if self._where.get(id(p)) is not None:
                    exported = self._export_state(p)
                    if exported is not None:
                        saved[id(p)] = (p, exported)
                self._where.pop(id(p), None)
        by_dtype = {}
        for p in params:
            by_dtype.setdefault(p._array.dtype, []).append(p)
        threads = num_threads()
        buckets = [_Bucket(members, dtype, self._n_scratch, threads) for dtype, members in by_dtype.items()]
        for bucket in buckets:
            for name, init in self._buffers(group):
                self._ensure_buffer(bucket, name, init)
            for i, p in enumerate(bucket.params):
                self._where[id(p)] = (bucket, i)
        self._plans[gi] = (params, list(params), buckets)
        for p, exported in saved.values():
            if any(q is p for q in params):
                self._import_state(p, group, exported)
        return buckets

    # ----- the step ------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in place. Returns ``closure()``'s loss if given."""
        loss = self._evaluate(closure)
        for gi, group in enumerate(self.param_groups):
            buckets = self._buckets(gi)
            specs = self._buffers(group)
            for bucket in buckets:
                grads = [p._grad for p in bucket.params]
                active = [i for i, g in enumerate(grads) if g is not None]
                if not active:
                    continue
                for name, init in specs:
                    self._ensure_buffer(bucket, name, init)
                names = [name for name, _ in specs]
                gflat = [None if g is None else g._array.reshape(-1) for g in grads]
                new_scales = {name: self._new_scale(group, name) for name in names}
                if len(active) == len(grads) and (bucket.uniform or bucket.check_uniform()):
                    scal = self._step_scalars(group, bucket, 0, names)
                    self._run(group, scal, bucket, bucket.plan, gflat, names)
                    self._advance(bucket, active, names, new_scales)
                elif len(active) < len(grads) and bucket.uniform_among(active):  # e.g. frozen parameters
                    scal = self._step_scalars(group, bucket, active[0], names)
                    self._run(group, scal, bucket, bucket.subset_plan(tuple(active)), gflat, names)
                    self._advance(bucket, active, names, new_scales)
                    bucket.uniform = False
                else:
                    for i in active:
                        scal = self._step_scalars(group, bucket, i, names)
                        self._run(group, scal, bucket, bucket.param_plan(i), gflat, names)
                        self._advance(bucket, (i,), names, new_scales)
                    bucket.check_uniform()
        return loss

    def _step_scalars(self, group, bucket, i, names):
        scales = {name: bucket.scales[name][i] for name in names}
        ready = {name: bucket.ready[name][i] for name in names}
        return self._scalars(group, bucket.steps[i] + 1, scales, ready)

    @staticmethod
    def _advance(bucket, indices, names, new_scales):
        for i in indices:
            bucket.steps[i] += 1
        for name in names:
            scales, ready, value = bucket.scales[name], bucket.ready[name], new_scales[name]
            for i in indices:
                scales[i] = value
                ready[i] = True

    def _run(self, group, scal, bucket, plans, gflat, names):
        """Run the kernel over the chunks of ``plans`` (alone, shared): here, or here and in worker threads.

        Shared, the threads take the chunks from one iterator (taking an item is atomic under the
        GIL); a worker that has not started by the time the chunks run out is cancelled, not awaited.
        """
        alone, plan = plans
        helpers = min(bucket.workers, len(plan)) - 1
        compiled = self._compiled_update(group, scal, bucket.dtype)
        if compiled is not None and self._run_compiled(compiled, bucket, plans, gflat, names, helpers):
            return
        if helpers <= 0 or not bucket.timer.choose():
            start = time.perf_counter()
            self._run_chunks(group, scal, bucket, alone, gflat, names, 0)
            if helpers > 0:
                bucket.timer.record(False, (time.perf_counter() - start) / _plan_size(alone))
            return
        start = time.perf_counter()
        chunks = iter(plan)
        pool = get_pool(helpers)
        futures = [
            pool.submit(self._run_chunks, group, scal, bucket, chunks, gflat, names, k) for k in range(1, helpers + 1)
        ]
        try:
            self._run_chunks(group, scal, bucket, chunks, gflat, names, 0)
        finally:
            for future in futures:
                if not future.cancel():
                    future.result()
        bucket.timer.record(True, (time.perf_counter() - start) / _plan_size(plan))

    def _run_compiled(self, compiled, bucket, plans, gflat, names, helpers):
        """Run a compiled kernel on every piece of the plan where it lies (a call costs about a microsecond:
        nothing is gathered), here or shared with ``helpers`` threads: the pieces are dealt into balanced
        shares, which the threads take in turn, as in :meth:`_run`. Returns False, having done nothing,
        when a parameter is not contiguous.
        """
        threaded = helpers > 0 and bucket.timer.choose()
        plan = plans[1] if threaded else plans[0]
        cached = bucket.compiled_shares.get(id(plan))
        if cached is None or cached[0] is not plan:
            cached = bucket.compiled_shares[id(plan)] = (plan, _share(plan, helpers + 1 if threaded else 1))
        shares = cached[1]
        flat = bucket.flat
        if any(flat[i] is None for share in shares for i, _, _, _ in share):
            return False
        buffers = [bucket.buffers[name] for name in names]

        def work(taken):
            for pieces in taken:
                for i, lo, hi, first in pieces:
                    compiled(flat[i][lo:hi], gflat[i][lo:hi], [b[first : first + hi - lo] for b in buffers])

        start = time.perf_counter()
        if threaded:
            taken = iter(shares)
            pool = get_pool(helpers)
            futures = [pool.submit(work, taken) for _ in shares[1:]]
            try:
                work(taken)
            finally:
                for future in futures:
                    if not future.cancel():
                        future.result()
        else:
            work(shares)
        if helpers > 0:
            bucket.timer.record(threaded, (time.perf_counter() - start) / _plan_size(plan))
        return True

    def _run_chunks(self, group, scal, bucket, chunks, gflat, names, worker):
        kernel = self._kernel
        buffers = [bucket.buffers[name] for name in names]
        *scratch_all, gather_p, gather_g = bucket.scratch[worker]
        flat, arrays = bucket.flat, bucket.arrays
        for start, end, segments in chunks:
            n = end - start
            bufs = [b[start:end] for b in buffers]
            scratch = [s[:n] for s in scratch_all]
            if len(segments) == 1 and flat[segments[0][0]] is not None:
                i, lo, hi, _ = segments[0]
                kernel(group, scal, flat[i][lo:hi], gflat[i][lo:hi], bufs, scratch)
                continue
            p, g = gather_p[:n], gather_g[:n]
            for i, lo, hi, at in segments:
                source = flat[i]
                p[at : at + hi - lo] = source[lo:hi] if source is not None else arrays[i].flat[lo:hi]
                g[at : at + hi - lo] = gflat[i][lo:hi]
            kernel(group, scal, p, g, bufs, scratch)
            for i, lo, hi, at in segments:
                if flat[i] is not None:
                    flat[i][lo:hi] = p[at : at + hi - lo]
                else:
                    arrays[i].flat[lo:hi] = p[at : at + hi - lo]

    # ----- to be defined by each optimiser ------------------------------------------------------
    def _buffers(self, group):
        raise NotImplementedError

    def _new_scale(self, group, name):
        return 1.0

    def _scalars(self, group, step, scales, ready):
        raise NotImplementedError

    def _kernel(self, group, scal, p, g, bufs, scratch):
        raise NotImplementedError

    def _compiled_update(self, group, scal, dtype):
        """``update(p, g, bufs)``: the kernel compiled into one pass (see _compiled.py), or None to run ``_kernel``."""
        return None


def _effective_grad(g, p, maximize, weight_decay, out):
    """The gradient torch's update uses: ``(-g if maximize else g) + weight_decay·p`` (``g`` itself if plain)."""
    if weight_decay:
        xp.multiply(p, weight_decay, out=out)
        (xp.subtract if maximize else xp.add)(out, g, out=out)
        return out
    if maximize:
        xp.negative(g, out=out)
        return out
    return g
