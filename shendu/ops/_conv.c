/* shendu.ops._conv: direct 2-D convolution on channels-last (NHWC) float32 arrays (optional; see conv.py).
 *
 * Every kernel takes (..., sh, sw, dh, dw, top, bottom, left, right, start, stop): strides, dilations, and the zero
 * padding around x (never stored: a window tap that falls in it reads zeros, or writes a sink).
 *
 * forward(x, w, bias, out, ..., start, stop[, split_filters])
 *     out[n, i, j, o] = bias[o] + Σ_{p,q,c} x[n, i·sh + p·dh − top, j·sw + q·dw − left, c] · w[o, c, p, q]
 *     x (N, H, W, C), w (O, C, KH, KW) as PyTorch keeps it, bias (O,) or None, out (N, OH, OW, O′) written,
 *     O′ = O rounded up to a multiple of 8 (the lanes past O hold zeros; conv.py keeps the first O).
 *     With split_filters, start and stop count blocks of 16 filters (every output pixel): a small map (7×7 at
 *     batch 1) is shared between threads by its filters, each thread packing only its own.
 * input_grad(gy, w, gx, ..., start, stop)
 *     gx[n, i·sh + p·dh − top, j·sw + q·dw − left, c] = Σ_{o, windows} gy[n, i, j, o] · w[o, c, p, q] (the samples'
 *     gx zeroed first); gy (N, OH, OW, O), w (O, C, KH, KW), gx (N, H, W, C′), C′ = C rounded up to a multiple of 8.
 *     With stride 1 it is forward's gather over gy with the kernel turned round (gather_geometry), else a scatter.
 * weight_grad(x, gy, gw, ..., start, stop)
 *     gw[p, q, c, o] += Σ_{n,i,j} x[n, i·sh + p·dh − top, j·sw + q·dw − left, c] · gy[n, i, j, o]; O a multiple of 8.
 *
 * depthwise_forward, depthwise_input_grad, depthwise_weight_grad: the same three for groups = C = O, the kernel
 * (KH, KW, 1, C), any C, the padding not stored either (taps in it are skipped).
 *
 * forward and weight_grad work on the output rows n·OH + i in [start, stop), input_grad on the samples n in
 * [start, stop) (the rows of one sample overlap in gx), with the GIL released: conv.py shares the work
 * between threads (weight_grad then into one gw per thread). The same three loops are a transposed convolution
 * read the other way round (forward = input_grad, backward = forward and weight_grad).
 *
 * How: the output channels (forward, weight_grad) or input channels (input_grad) are the vector lanes,
 * 16 at a time in two 8-float vectors; six output pixels (forward, input_grad) or six input channels
 * (weight_grad) are register-blocked next to them, so each loaded vector of the kernel serves six
 * multiply-adds. The output pixels are taken in tiles of 192 across rows and samples (48 in weight_grad; a 7×7
 * map is no run of short rows), and the summed channels in chunks of 32 (256 for 1×1 kernels), so that the slice
 * of the kernel a tile reads (packed from PyTorch's layout once per call, slice after slice) stays in the L1
 * cache. Nothing like an im2col matrix is written. Sums run in float32 in a fixed order (blocks start at
 * multiples of 6 of the pixel index, so the result does not depend on the threads); with FMA they round
 * differently from NumPy's GEMM, within float32 tolerance (the tests compare with the NumPy paths in float64 and
 * float32).
 */
#include "_buffers.h"
#include <stddef.h>

#define INLINE static inline __attribute__((always_inline))

typedef float vf __attribute__((vector_size(32), aligned(4), may_alias));
#define LANES 8
#define PIXELS 6   /* output pixels per block: 6 x 2 accumulators + 2 kernel vectors + 1 broadcast < 16 registers */
#define CHANNELS 6 /* input channels per block in weight_grad: 6 x 2 accumulators, as the pixels of forward */
#define TILE 192   /* output pixels per tile: the kernel slice a block reads is loaded once for all of them */
#define CHUNK 32   /* channels summed per pass over a tile: the slice (kh·kw·32·16 floats) stays in the L1 cache */
#define SLICE_FLOATS 4096 /* ... and more for small kernels, up to a 16 KB slice (256 channels of a 1×1 kernel) */

#define ROW_RUN 24    /* weight_grad takes a window row as one run of kw·C values up to this many (see there) */
#define OUTER_TILE 48 /* output pixels per tile in weight_grad: the windows of a tile stay in the L1 cache over the
                       * filter blocks (no kernel is packed there). NOTE: with 192, 69 → 96 GFLOP/s (64 channels, 8×8) */

typedef struct {
    Py_ssize_t n, hp, wp, c, kh, kw, o, oh, ow;
    Py_ssize_t sh, sw, dh, dw;
    Py_ssize_t real; /* forward: the filters (≤ o, the lanes of out); input_grad: the input channels (≤ c) */
    int split_filters; /* forward: start, stop count blocks of 16 filters (all pixels), not output rows */
    Py_ssize_t top, bottom, left, right; /* the zero padding around x, which is not stored: see window_taps */
    int flipped; /* forward reading w (O, C, KH, KW) as w[c, o, KH − 1 − p, KW − 1 − q]: input_grad as a gather */
    const Py_ssize_t *phase_taps; /* flipped, one phase of a strided input_grad: which of w's w_taps taps each of the
                                   * kh·kw packed taps is (NULL: all of them, reversed) */
    Py_ssize_t w_taps;
} geometry;

/* Channels summed per pass over a tile (the slice of the packed kernel a block reads). NOTE: a 1×1 kernel summed
 * 256 channels at a time rather than 32 adds its accumulators into the output (or gx) 8 times less often. */
INLINE Py_ssize_t
chunk_for(const geometry *g)
{
    Py_ssize_t chunk = SLICE_FLOATS / (g->kh * g->kw * 2 * LANES);
    return chunk > CHUNK ? chunk : CHUNK;
}

/* What a call works in besides its arrays: the packed kernel slices, the window pointers of a tile, and the
 * row that windows falling in the padding read (zeros) or write (a sink). */
typedef struct {
    float *packed;
    float **taps;          /* TILE·kh·kw pointers: the taps of the windows that reach into the padding */
    Py_ssize_t *tap_steps; /* kh·kw: where each tap starts relative to the window's corner, (p·dh·W + q·dw)·C */
    float *outside;
} workspace;

/* The windows of a tile of output pixels. */
typedef struct {
    float *x;                  /* the array they are in */
    Py_ssize_t corner[TILE];   /* where each pixel's window starts in x (its first tap) */
    float **border[TILE];      /* NULL when the whole window lies in x, else its kh·kw tap pointers */
    const Py_ssize_t *tap_steps;
    const float *outside;      /* what border taps in the padding point to */
    int all_inside;            /* no window of the tile reaches into the padding */
} windows;

/* Where x[n, h, w, :] starts in an (N, H, W, C) array. */
INLINE Py_ssize_t
pixel_offset(const geometry *g, Py_ssize_t n, Py_ssize_t h, Py_ssize_t w)
{
    return ((n * g->hp + h) * g->wp + w) * g->c;
}

/* Where a window's tap (p, q) starts, relative to its first tap. */
INLINE Py_ssize_t
tap_offset(const geometry *g, Py_ssize_t p, Py_ssize_t q)
{
    return (p * g->dh * g->wp + q * g->dw) * g->c;
}

/* The windows of output pixels r0 .. r0 + count − 1 (r = (n·OH + i)·OW + j) in x (N, H, W, C). A window that
 * reaches into the padding gets a pointer per tap, `outside` (a row of zeros to read, or a sink to write) for the
 * taps in the padding. NOTE: the padding is never stored: conv.py made a padded copy of x in forward and another in
 * backward (ResNet-20: ~28 ms of a two-thread step, one more activation kept). Blocks and tiles run over the pixels
 * of whole rows and samples, so a row's end is no tail. */
static void
window_taps(const geometry *g, float *x, Py_ssize_t r0, int count, windows *win, const workspace *ws)
{
    const Py_ssize_t per_pixel = g->kh * g->kw, reach_h = (g->kh - 1) * g->dh, reach_w = (g->kw - 1) * g->dw;
    Py_ssize_t j = r0 % g->ow, row = r0 / g->ow;
    Py_ssize_t n = row / g->oh, i = row % g->oh;
    win->x = x;
    win->tap_steps = ws->tap_steps;
    win->outside = ws->outside;
    win->all_inside = 1;
    for (int k = 0; k < count; k++) {
        Py_ssize_t ih = i * g->sh - g->top, iw = j * g->sw - g->left;
        win->corner[k] = pixel_offset(g, n, ih, iw);
        win->border[k] = NULL;
        if (ih < 0 || ih + reach_h >= g->hp || iw < 0 || iw + reach_w >= g->wp) {
            float **taps = win->border[k] = ws->taps + k * per_pixel;
            win->all_inside = 0;
            for (Py_ssize_t p = 0; p < g->kh; p++)
                for (Py_ssize_t q = 0; q < g->kw; q++) {
                    Py_ssize_t h = ih + p * g->dh, w = iw + q * g->dw;
                    int inside = h >= 0 && h < g->hp && w >= 0 && w < g->wp;
                    taps[p * g->kw + q] = inside ? x + pixel_offset(g, n, h, w) : ws->outside;
                }
        }
        if (++j == g->ow) {
            j = 0;
            if (++i == g->oh) {
                i = 0;
                n++;
            }
        }
    }
}

/* Whether the windows of pixels k0 .. k0 + px − 1 all lie in x; corners gets where each starts (+ c0). */
INLINE int
inside_block(const windows *win, int k0, const int px, Py_ssize_t c0, const float **corners)
{
    int interior = 1;
    for (int j = 0; j < px; j++) {
        int inside = win->border[k0 + j] == NULL;
        interior &= inside;
        corners[j] = inside ? win->x + win->corner[k0 + j] + c0 : win->x; /* (not read unless all are inside) */
    }
    return interior;
}

/* Where tap t of pixel k's window starts. */
INLINE float *
tap_at(const windows *win, int k, Py_ssize_t t)
{
    return win->border[k] ? win->border[k][t] : win->x + win->corner[k] + win->tap_steps[t];
}

/* The pixels j of a block (k0 + j) whose tap t lies in x are within [*lo, *hi) (*lo == *hi: none is; a pixel between
 * two whose tap lies in the padding reads zeros, or writes the sink). */
INLINE void
inside_range(const windows *win, int k0, const int px, Py_ssize_t t, int *lo, int *hi)
{
    int first = px, last = 0;
    for (int j = 0; j < px; j++)
        if (win->border[k0 + j] == NULL || win->border[k0 + j][t] != win->outside) {
            first = first < j ? first : j;
            last = j + 1;
        }
    *lo = first;
    *hi = first < last ? last : first;
}

/* Run BODY(J0, L) for the pixels j0 .. j0 + l − 1 of a block of px, with constant bounds, so that the accumulators
 * of the unrolled loops stay in registers (21 cases; those past px are not compiled). NOTE: taps in the padding
 * cost as much as the others when the whole block ran each tap; an 8×8 map with a 3×3 kernel spends 16 % of its
 * multiply-adds on them, DCGAN's 4×4 stride-2 layer from 8×8 23 % (oneDNN skips them). Skipped, in nominal
 * GFLOP/s (one thread, interleaved A/B): that 8×8 3×3 layer's forward 108 → 112, input gradient 108 → 112, the DCGAN
 * layer's forward 101 → 107, a 5×5 one on 14×14 110 → 117. */
#define PIXEL_RANGE(j0, l, px, BODY)                                                                                  \
    switch ((j0) * (PIXELS + 1) + (l)) {                                                                              \
    case 0 * (PIXELS + 1) + 1: BODY(0, 1); break;                                                                     \
    case 0 * (PIXELS + 1) + 2: if (px >= 2) BODY(0, 2); break;                                                        \
    case 0 * (PIXELS + 1) + 3: if (px >= 3) BODY(0, 3); break;                                                        \
    case 0 * (PIXELS + 1) + 4: if (px >= 4) BODY(0, 4); break;                                                        \
    case 0 * (PIXELS + 1) + 5: if (px >= 5) BODY(0, 5); break;                                                        \
    case 0 * (PIXELS + 1) + 6: if (px >= 6) BODY(0, 6); break;                                                        \
    case 1 * (PIXELS + 1) + 1: if (px >= 2) BODY(1, 1); break;                                                        \
    case 1 * (PIXELS + 1) + 2: if (px >= 3) BODY(1, 2); break;                                                        \
    case 1 * (PIXELS + 1) + 3: if (px >= 4) BODY(1, 3); break;                                                        \
    case 1 * (PIXELS + 1) + 4: if (px >= 5) BODY(1, 4); break;                                                        \
    case 1 * (PIXELS + 1) + 5: if (px >= 6) BODY(1, 5); break;                                                        \
    case 2 * (PIXELS + 1) + 1: if (px >= 3) BODY(2, 1); break;                                                        \
    case 2 * (PIXELS + 1) + 2: if (px >= 4) BODY(2, 2); break;                                                        \
    case 2 * (PIXELS + 1) + 3: if (px >= 5) BODY(2, 3); break;                                                        \
    case 2 * (PIXELS + 1) + 4: if (px >= 6) BODY(2, 4); break;                                                        \
    case 3 * (PIXELS + 1) + 1: if (px >= 4) BODY(3, 1); break;                                                        \
    case 3 * (PIXELS + 1) + 2: if (px >= 5) BODY(3, 2); break;                                                        \
    case 3 * (PIXELS + 1) + 3: if (px >= 6) BODY(3, 3); break;                                                        \
    case 4 * (PIXELS + 1) + 1: if (px >= 5) BODY(4, 1); break;                                                        \
    case 4 * (PIXELS + 1) + 2: if (px >= 6) BODY(4, 2); break;                                                        \
    case 5 * (PIXELS + 1) + 1: if (px >= 6) BODY(5, 1); break;                                                        \
    default: break;                                                                                                   \
    }

/* acc[j] += ws[k] · VALUE (an expression of j and k) for the pixels J0 .. J0 + L − 1 of a block, k over COUNT rows
 * of the packed kernel slice ws (16 lanes each; nv vectors of them): the inner loop of forward's gather and of
 * input_grad's scatter, for PIXEL_RANGE. */
#define MULTIPLY_ADD_RUN(J0, L, COUNT, VALUE)                                                                         \
    for (Py_ssize_t k = 0; k < (COUNT); k++) {                                                                        \
        vf w0 = *(const vf *)(ws + k * 2 * LANES), w1 = *(const vf *)(ws + k * 2 * LANES + LANES);                    \
        for (int j = J0; j < J0 + L; j++) {                                                                           \
            float value = (VALUE);                                                                                    \
            acc[j][0] += w0 * value;                                                                                  \
            if (nv > 1)                                                                                               \
                acc[j][1] += w1 * value;                                                                              \
        }                                                                                                             \
    }

/* Blocks of output pixels start at multiples of PIXELS of the pixel index r, wherever a thread's range starts: the
 * pixels summed together, and so the order of the sums into gx, do not depend on how the work is shared. */
INLINE int
block_size(int position, int left)
{
    int size = PIXELS - position % PIXELS;
    return size < left ? size : left;
}

#define BY_PIXELS(px, CALL)                                                                                           \
    switch (px) {                                                                                                     \
    case 6: CALL(6); break;                                                                                           \
    case 5: CALL(5); break;                                                                                           \
    case 4: CALL(4); break;                                                                                           \
    case 3: CALL(3); break;                                                                                           \
    case 2: CALL(2); break;                                                                                           \
    default: CALL(1); break;                                                                                          \
    }


/* ----- the kernel, packed: PyTorch's (O, C, KH, KW) filters read as 16-lane rows ------------------------ */
/* packed[p, q, k, l] = w[lane l, k, p, q] (forward: lanes = output channels ob + l, k = summed channel c0 + k) or
 * w[k, lane l, p, q] (input_grad: lanes = input channels, k = output channel), zero past the last real lane.
 * A call packs the filters it works with once, slice after slice (kh·kw·chunk·16 floats each, the part a tile
 * reads in the L1 cache); with split_filters a thread packs only its own blocks. NOTE: packed again for each tile
 * (resnet18 batch 1 needs no more), a 4×4 forward spent ~15 % of its time packing; once a call, a DCGAN 4×4 layer
 * went from 78 to ~99 GFLOP/s forward and 3×3 ones gained 5-10 % (interleaved A/B, one thread). */
static void
pack_filters(const geometry *g, const float *w, int lanes_are_rows, Py_ssize_t lane0, Py_ssize_t k0, Py_ssize_t chunk,
             float *packed)
{
    const Py_ssize_t taps = g->kh * g->kw, lanes = g->real - lane0 < 2 * LANES ? g->real - lane0 : 2 * LANES;
    /* w (rows, cols, KH, KW): forward rows = O (lanes), cols = C; input_grad rows = O (k), cols = C (lanes). w is
     * read in memory order (a lane's or a k's taps are consecutive), the packed slice written across. */
    if (lanes < 2 * LANES)
        memset(packed, 0, (size_t)(taps * chunk * 2 * LANES) * sizeof(float));
    if (g->flipped) { /* lanes = C, k = O as input_grad's, the taps reversed (or a phase's, see phase_geometry) */
        const Py_ssize_t w_taps = g->phase_taps ? g->w_taps : taps;
        for (Py_ssize_t k = 0; k < chunk; k++) {
            const float *source = w + ((k0 + k) * g->real + lane0) * w_taps;
            for (Py_ssize_t l = 0; l < lanes; l++)
                for (Py_ssize_t t = 0; t < taps; t++)
                    packed[(t * chunk + k) * 2 * LANES + l] =
                        source[l * w_taps + (g->phase_taps ? g->phase_taps[t] : taps - 1 - t)];
        }
    }
    else if (lanes_are_rows)
        for (Py_ssize_t l = 0; l < lanes; l++) {
            const float *source = w + ((lane0 + l) * g->c + k0) * taps;
            for (Py_ssize_t k = 0; k < chunk; k++)
                for (Py_ssize_t t = 0; t < taps; t++)
                    packed[(t * chunk + k) * 2 * LANES + l] = source[k * taps + t];
        }
    else
        for (Py_ssize_t k = 0; k < chunk; k++) {
            const float *source = w + ((k0 + k) * g->real + lane0) * taps;
            for (Py_ssize_t l = 0; l < lanes; l++)
                for (Py_ssize_t t = 0; t < taps; t++)
                    packed[(t * chunk + k) * 2 * LANES + l] = source[l * taps + t];
        }
}

/* ----- forward: gather ----------------------------------------------------------------------------- */
/* out[r, ob:ob + 8·nv] for px pixels (+)= Σ_{p,q} Σ_{c in the chunk} x[window(r) + tap(p, q) + c] · w[ob:, c, p, q];
 * x starts at the chunk's first channel, packed holds the chunk's filters, bias and out start at ob. */
INLINE void
gather_block(const int px, const int nv, const geometry *g, const windows *win, int k0, Py_ssize_t c0, Py_ssize_t chunk,
             const float *packed, const float *bias, int first, float *out)
{
    vf acc[PIXELS][2];
    for (int j = 0; j < px; j++)
        for (int v = 0; v < nv; v++)
            acc[j][v] = !first ? *(const vf *)(out + j * g->o + v * LANES)
                               : (bias ? *(const vf *)(bias + v * LANES) : (vf){0});
    const float *corners[PIXELS];
    int interior = inside_block(win, k0, px, c0, corners);
    /* a window row's taps hold kw·C consecutive floats of x when every channel is in the chunk (and dw = 1), as the
     * packed kernel's (p, q, c): one run of kw·C multiply-adds per row, the same sums in the same order. NOTE:
     * resnet18's 3-channel 7×7 stem went from 76 to 92 GFLOP/s (one thread, interleaved A/B): 3 multiply-adds a tap */
    Py_ssize_t runs = g->kh, run = g->kw * chunk, row_taps = g->kw;
    if (!(interior && chunk == g->c && g->dw == 1)) {
        runs = g->kh * g->kw;
        run = chunk;
        row_taps = 1;
    }
    for (Py_ssize_t r = 0; r < runs; r++) {
        const float *xs[PIXELS];
        Py_ssize_t t = r * row_taps;
        int lo = 0, hi = px; /* the pixels whose tap t is in x (the others' lies in the padding: skipped) */
        if (!interior)
            inside_range(win, k0, px, t, &lo, &hi);
        for (int j = 0; j < px; j++)
            xs[j] = interior ? corners[j] + win->tap_steps[t] : tap_at(win, k0 + j, t) + c0;
        const float *ws = packed + t * chunk * 2 * LANES;
#define GATHER_RUN(J0, L) MULTIPLY_ADD_RUN(J0, L, run, xs[j][k])
        PIXEL_RANGE(lo, hi - lo, px, GATHER_RUN)
#undef GATHER_RUN
    }
    for (int j = 0; j < px; j++)
        for (int v = 0; v < nv; v++)
            *(vf *)(out + j * g->o + v * LANES) = acc[j][v];
}

INLINE void
gather_tile(const int nv, const geometry *g, const windows *win, int count, int phase, Py_ssize_t c0, Py_ssize_t chunk,
            const float *packed, const float *bias, float *out)
{
    for (int k = 0, px; k < count; k += px) {
        px = block_size(phase + k, count - k);
#define GATHER(P) gather_block(P, nv, g, win, k, c0, chunk, packed, bias, c0 == 0, out + k * g->o)
        BY_PIXELS(px, GATHER)
#undef GATHER
    }
}

INLINE void
forward_samples(const geometry *g, float *x, const float *w, const float *bias, float *out, Py_ssize_t start,
                Py_ssize_t stop, const workspace *ws)
{
    /* the filters in blocks of 16: all of them, or the blocks [ob_start, ob_stop) when g->split_filters */
    Py_ssize_t ob_first = g->split_filters ? start * 2 * LANES : 0, ob_last = g->split_filters ? stop * 2 * LANES : g->o;
    if (g->split_filters) {
        start = 0;
        stop = g->n * g->oh;
    }
    if (ob_last > g->o)
        ob_last = g->o;
    Py_ssize_t first = start * g->ow, last = stop * g->ow; /* start, stop: output rows n·OH + i */
    float lane_bias[2 * LANES];
    const Py_ssize_t per_block = g->c * g->kh * g->kw * 2 * LANES; /* packed floats of a block of 16 filters */
    const Py_ssize_t chunk_size = chunk_for(g);
    /* one tile (a small map at batch 1): each slice packed just before its use, still in the L1 cache after. NOTE:
     * packed all at once, resnet18's 512-channel 7×7 layer at batch 1 read its 9.4 MB kernel back from memory:
     * 37 → 45 GFLOP/s slice by slice (one thread, interleaved A/B) */
    const int one_tile = (last - 1) / TILE - first / TILE < 1;
    for (Py_ssize_t ob = ob_first; ob < ob_last && !one_tile; ob += 2 * LANES)
        for (Py_ssize_t c0 = 0; c0 < g->c; c0 += chunk_size)
            pack_filters(g, w, 1, ob, c0, g->c - c0 < chunk_size ? g->c - c0 : chunk_size,
                         ws->packed + (ob - ob_first) / (2 * LANES) * per_block + c0 * g->kh * g->kw * 2 * LANES);
    windows win;
    for (Py_ssize_t t = first - first % TILE; t < last; t += TILE) { /* tiles at multiples of TILE (of PIXELS) */
        Py_ssize_t r = t > first ? t : first;
        int count = (int)((t + TILE < last ? t + TILE : last) - r);
        window_taps(g, x, r, count, &win, ws);
        for (Py_ssize_t ob = ob_first; ob < ob_last; ob += 2 * LANES) {
            for (int l = 0; bias && l < 2 * LANES; l++)
                lane_bias[l] = ob + l < g->real ? bias[ob + l] : 0.0f;
            for (Py_ssize_t c0 = 0; c0 < g->c; c0 += chunk_size) {
                Py_ssize_t chunk = g->c - c0 < chunk_size ? g->c - c0 : chunk_size;
                const float *packed = ws->packed + (ob - ob_first) / (2 * LANES) * per_block + c0 * g->kh * g->kw * 2 * LANES;
                if (one_tile) {
                    pack_filters(g, w, 1, ob, c0, chunk, ws->packed);
                    packed = ws->packed;
                }
                const float *b = bias ? lane_bias : NULL;
                if (g->o - ob >= 2 * LANES)
                    gather_tile(2, g, &win, count, (int)(r % PIXELS), c0, chunk, packed, b, out + r * g->o + ob);
                else
                    gather_tile(1, g, &win, count, (int)(r % PIXELS), c0, chunk, packed, b, out + r * g->o + ob);
            }
        }
    }
}

/* ----- input gradient: scatter ---------------------------------------------------------------------- */
/* For px pixels r: gx[window(r) + tap(p, q) + cb:cb + 8·nv] += Σ_{o in the chunk} gy[r, o] · w[o, cb:, p, q], every
 * (p, q); gy starts at the chunk's first channel, packed holds the chunk's filters, gx starts at cb. */
INLINE void
scatter_block(const int px, const int nv, const geometry *g, const float *gy, Py_ssize_t chunk, const float *packed,
              Py_ssize_t cb, const windows *win, int k0)
{
    float *corners[PIXELS];
    int interior = inside_block(win, k0, px, cb, (const float **)corners);
    for (Py_ssize_t t = 0; t < g->kh * g->kw; t++) {
        int lo = 0, hi = px; /* the pixels whose tap t is in gx (the others' lies in the padding: skipped) */
        if (!interior)
            inside_range(win, k0, px, t, &lo, &hi);
        vf acc[PIXELS][2];
        for (int j = 0; j < px; j++)
            for (int v = 0; v < nv; v++)
                acc[j][v] = (vf){0};
        const float *ws = packed + t * chunk * 2 * LANES;
#define SCATTER_RUN(J0, L) MULTIPLY_ADD_RUN(J0, L, chunk, gy[j * g->o + k])
        PIXEL_RANGE(lo, hi - lo, px, SCATTER_RUN)
#undef SCATTER_RUN
        for (int j = 0; j < px; j++) { /* (a pixel outside [lo, hi) adds its zeros to the sink) */
            float *dst = interior ? corners[j] + win->tap_steps[t] : tap_at(win, k0 + j, t) + cb;
            for (int v = 0; v < nv; v++)
                *(vf *)(dst + v * LANES) += acc[j][v];
        }
    }
}

INLINE void
scatter_tile(const int nv, const geometry *g, const float *gy, const windows *win, int count, int phase, Py_ssize_t o0,
             Py_ssize_t chunk, const float *packed, Py_ssize_t cb)
{
    for (int k = 0, px; k < count; k += px) {
        px = block_size(phase + k, count - k);
#define SCATTER(P) scatter_block(P, nv, g, gy + k * g->o + o0, chunk, packed, cb, win, k)
        BY_PIXELS(px, SCATTER)
#undef SCATTER
    }
}

INLINE void
input_grad_samples(const geometry *g, const float *gy, const float *w, float *gx, Py_ssize_t start, Py_ssize_t stop,
                   const workspace *ws)
{
    Py_ssize_t first = start * g->oh * g->ow, last = stop * g->oh * g->ow; /* start, stop: samples */
    const Py_ssize_t per_block = g->o * g->kh * g->kw * 2 * LANES; /* packed floats of a block of 16 channels */
    const Py_ssize_t chunk_size = chunk_for(g);
    const int one_tile = (last - 1) / TILE - first / TILE < 1; /* then packed slice by slice, as forward */
    for (Py_ssize_t cb = 0; cb < g->c && !one_tile; cb += 2 * LANES)
        for (Py_ssize_t o0 = 0; o0 < g->o; o0 += chunk_size)
            pack_filters(g, w, 0, cb, o0, g->o - o0 < chunk_size ? g->o - o0 : chunk_size,
                         ws->packed + cb / (2 * LANES) * per_block + o0 * g->kh * g->kw * 2 * LANES);
    windows win;
    memset(gx + start * g->hp * g->wp * g->c, 0, (size_t)((stop - start) * g->hp * g->wp * g->c) * sizeof(float));
    for (Py_ssize_t t = first - first % TILE; t < last; t += TILE) { /* tiles at multiples of TILE (of PIXELS) */
        Py_ssize_t r = t > first ? t : first;
        int count = (int)((t + TILE < last ? t + TILE : last) - r);
        window_taps(g, gx, r, count, &win, ws);
        for (Py_ssize_t cb = 0; cb < g->c; cb += 2 * LANES)
            for (Py_ssize_t o0 = 0; o0 < g->o; o0 += chunk_size) {
                Py_ssize_t chunk = g->o - o0 < chunk_size ? g->o - o0 : chunk_size;
                const float *packed = ws->packed + cb / (2 * LANES) * per_block + o0 * g->kh * g->kw * 2 * LANES;
                if (one_tile) {
                    pack_filters(g, w, 0, cb, o0, chunk, ws->packed);
                    packed = ws->packed;
                }
                if (g->c - cb >= 2 * LANES)
                    scatter_tile(2, g, gy + r * g->o, &win, count, (int)(r % PIXELS), o0, chunk, packed, cb);
                else
                    scatter_tile(1, g, gy + r * g->o, &win, count, (int)(r % PIXELS), o0, chunk, packed, cb);
            }
    }
}

/* ----- weight gradient: sums of outer products over the pixels of a tile ------------------------------- */
/* gw[p, q, c:c + cs, ob:ob + 8·nv] += Σ_k x[starts[k] + c:] ⊗ gy[rows[k] + ob:] over the pixels k whose tap lies
 * in x (the others' would add zeros: skipped), rows[k] = rows[0] + k·O when every tap of the tile is (listed = 0);
 * gw at ob. NOTE: skipping those pixels, DCGAN's 4×4 stride-2 layer from 8×8 92 → 110 GFLOP/s, an 8×8 3×3 one
 * 105 → 122 (nominal FLOPs, one thread, interleaved A/B); listing them cost a 16-channel 32×32 layer 10 % where a
 * tap skips 1 or 2 pixels of 48, hence the contiguous case. */
INLINE void
outer_block(const int cs, const int nv, const int listed, const geometry *g, const float *const *starts, Py_ssize_t c,
            int count, const float *const *rows, Py_ssize_t ob, float *gw)
{
    vf acc[CHANNELS][2];
    for (int i = 0; i < cs; i++)
        for (int v = 0; v < nv; v++)
            acc[i][v] = *(const vf *)(gw + i * g->o + v * LANES);
    for (int k = 0; k < count; k++) {
        const float *gy = (listed ? rows[k] : rows[0] + k * g->o) + ob;
        vf g0 = *(const vf *)gy, g1 = nv > 1 ? *(const vf *)(gy + LANES) : (vf){0};
        const float *xs = starts[k] + c;
        for (int i = 0; i < cs; i++) {
            float xv = xs[i];
            acc[i][0] += g0 * xv;
            if (nv > 1)
                acc[i][1] += g1 * xv;
        }
    }
    for (int i = 0; i < cs; i++)
        for (int v = 0; v < nv; v++)
            *(vf *)(gw + i * g->o + v * LANES) = acc[i][v];
}

INLINE void
outer_channels(const int cs, const geometry *g, const float *const *starts, Py_ssize_t c, int count,
               const float *const *rows, int listed, float *gw)
{
    for (Py_ssize_t ob = 0; ob < g->o; ob += 2 * LANES)
        if (g->o - ob >= 2 * LANES && listed)
            outer_block(cs, 2, 1, g, starts, c, count, rows, ob, gw + ob);
        else if (g->o - ob >= 2 * LANES)
            outer_block(cs, 2, 0, g, starts, c, count, rows, ob, gw + ob);
        else if (listed)
            outer_block(cs, 1, 1, g, starts, c, count, rows, ob, gw + ob);
        else
            outer_block(cs, 1, 0, g, starts, c, count, rows, ob, gw + ob);
}

INLINE void
weight_grad_samples(const geometry *g, float *x, const float *gy, float *gw, Py_ssize_t start, Py_ssize_t stop,
                    const workspace *ws)
{
    windows win;
    float *starts[TILE];
    const float *rows[TILE]; /* the gy row of each pixel in starts */
    /* few channels (an image's): a window row's kw·C values are consecutive in x, as gw's (q, c) rows, and are
     * taken as one run of "channels" (copied into runs for a window reaching into the padding): the same sums in
     * the same order. NOTE: tap by tap, a 1-channel layer loaded two vectors of gy for every two multiply-adds: the
     * digit CNN's 1-channel 5×5 layer at batch 100 5.0 → 3.2 ms, a 3-channel 3×3 one 2.4 → 2.2 ms (one thread) */
    const Py_ssize_t run = g->kw * g->c;
    float runs[OUTER_TILE * ROW_RUN];
    if (g->dw == 1 && run <= ROW_RUN) {
        for (Py_ssize_t r = start * g->ow; r < stop * g->ow; r += OUTER_TILE) {
            int count = (int)(stop * g->ow - r < OUTER_TILE ? stop * g->ow - r : OUTER_TILE);
            window_taps(g, x, r, count, &win, ws);
            for (Py_ssize_t p = 0; p < g->kh; p++) {
                int used = 0; /* the pixels whose window row p reaches into x (a row all in the padding is skipped) */
                for (int k = 0; k < count; k++) {
                    rows[used] = gy + (r + k) * g->o;
                    if (win.border[k] == NULL) {
                        starts[used++] = x + win.corner[k] + win.tap_steps[p * g->kw];
                        continue;
                    }
                    int inside = 0;
                    starts[used] = runs + used * ROW_RUN;
                    for (Py_ssize_t q = 0; q < g->kw; q++) {
                        const float *tap = tap_at(&win, k, p * g->kw + q);
                        inside |= tap != win.outside;
                        memcpy(starts[used] + q * g->c, tap, (size_t)g->c * sizeof(float));
                    }
                    used += inside;
                }
                float *gwp = gw + p * run * g->o;
                for (Py_ssize_t c = 0, cs; c < run; c += cs) {
                    cs = run - c < CHANNELS ? run - c : CHANNELS;
#define OUTER(CS) outer_channels(CS, g, (const float *const *)starts, c, used, rows, 1, gwp + c * g->o)
                    BY_PIXELS(cs, OUTER)
#undef OUTER
                }
            }
        }
        return;
    }
    for (Py_ssize_t r = start * g->ow; r < stop * g->ow; r += OUTER_TILE) { /* start, stop: output rows n·OH + i */
        int count = (int)(stop * g->ow - r < OUTER_TILE ? stop * g->ow - r : OUTER_TILE);
        window_taps(g, x, r, count, &win, ws);
        for (Py_ssize_t tap = 0; tap < g->kh * g->kw; tap++) {
            int used = count, skipped = 0; /* where this tap starts, for each pixel of the tile */
            rows[0] = gy + r * g->o;
            if (win.all_inside)
                for (int k = 0; k < count; k++)
                    starts[k] = x + win.corner[k] + win.tap_steps[tap];
            else
                for (int k = 0; k < count; k++)
                    skipped += (starts[k] = tap_at(&win, k, tap)) == win.outside;
            const int listed = skipped * 8 >= count && skipped > 0; /* then only the pixels whose tap is in x */
            for (int k = 0, at = 0; listed && k < count; k++)
                if (starts[k] != win.outside) {
                    starts[at] = starts[k];
                    rows[at++] = gy + (r + k) * g->o;
                }
            used -= listed ? skipped : 0;
            float *gwt = gw + tap * g->c * g->o;
            for (Py_ssize_t c = 0, cs; c < g->c; c += cs) {
                cs = g->c - c < CHANNELS ? g->c - c : CHANNELS;
#define OUTER(CS) outer_channels(CS, g, (const float *const *)starts, c, used, rows, listed, gwt + c * g->o)
                BY_PIXELS(cs, OUTER)
#undef OUTER
            }
        }
    }
}

/* ----- depthwise: one filter per channel (groups = C = O), the channels as the vector lanes -------------- */
/* Where tap (p, q) of output pixel (n, i, j)'s window starts in x, or −1 when it lies in the padding (not stored:
 * the depthwise loops skip it). NOTE: conv.py padded a copy of x for them in forward and again in backward, and
 * cropped the input gradient out of a padded one (which the next ReLU and batch norm then copied). */
INLINE Py_ssize_t
depthwise_tap(const geometry *g, Py_ssize_t n, Py_ssize_t i, Py_ssize_t j, Py_ssize_t p, Py_ssize_t q)
{
    Py_ssize_t h = i * g->sh + p * g->dh - g->top, w = j * g->sw + q * g->dw - g->left;
    return h >= 0 && h < g->hp && w >= 0 && w < g->wp ? pixel_offset(g, n, h, w) : -1;
}

/* out[n, i, j, c] = bias[c] + Σ_{p,q} x[n, i·sh + p·dh − top, j·sw + q·dw − left, c] · w[p, q, c] (the taps in x);
 * output rows [start, stop) */
SHENDU_CLONES static void
depthwise_forward_rows(const geometry *g, const float *x, const float *w, const float *bias, float *out,
                       Py_ssize_t start, Py_ssize_t stop)
{
    const Py_ssize_t C = g->c;
    for (Py_ssize_t row = start; row < stop; row++) {
        Py_ssize_t n = row / g->oh, i = row % g->oh;
        for (Py_ssize_t j = 0; j < g->ow; j++) {
            float *restrict o = out + (row * g->ow + j) * C;
            for (Py_ssize_t c = 0; c < C; c++)
                o[c] = bias ? bias[c] : 0.0f;
            for (Py_ssize_t p = 0; p < g->kh; p++)
                for (Py_ssize_t q = 0; q < g->kw; q++) {
                    Py_ssize_t at = depthwise_tap(g, n, i, j, p, q);
                    if (at < 0)
                        continue;
                    const float *restrict xs = x + at;
                    const float *restrict ws = w + (p * g->kw + q) * C;
                    for (Py_ssize_t c = 0; c < C; c++)
                        o[c] += xs[c] * ws[c];
                }
        }
    }
}

/* gx[n, i·sh + p·dh − top, j·sw + q·dw − left, c] = Σ gy[n, i, j, c] · w[p, q, c] over the windows' taps in gx;
 * samples [start, stop) */
SHENDU_CLONES static void
depthwise_input_grad_samples(const geometry *g, const float *gy, const float *w, float *gx, Py_ssize_t start,
                             Py_ssize_t stop)
{
    const Py_ssize_t C = g->c;
    memset(gx + start * g->hp * g->wp * C, 0, (size_t)((stop - start) * g->hp * g->wp * C) * sizeof(float));
    for (Py_ssize_t n = start; n < stop; n++)
        for (Py_ssize_t i = 0; i < g->oh; i++)
            for (Py_ssize_t j = 0; j < g->ow; j++) {
                const float *restrict gp = gy + ((n * g->oh + i) * g->ow + j) * C;
                for (Py_ssize_t p = 0; p < g->kh; p++)
                    for (Py_ssize_t q = 0; q < g->kw; q++) {
                        Py_ssize_t at = depthwise_tap(g, n, i, j, p, q);
                        if (at < 0)
                            continue;
                        float *restrict dst = gx + at;
                        const float *restrict ws = w + (p * g->kw + q) * C;
                        for (Py_ssize_t c = 0; c < C; c++)
                            dst[c] += gp[c] * ws[c];
                    }
            }
}

/* gw[p, q, c] += Σ x[n, i·sh + p·dh − top, j·sw + q·dw − left, c] · gy[n, i, j, c] (the taps in x); output rows
 * [start, stop) */
SHENDU_CLONES static void
depthwise_weight_grad_rows(const geometry *g, const float *x, const float *gy, float *gw, Py_ssize_t start,
                           Py_ssize_t stop)
{
    const Py_ssize_t C = g->c;
    for (Py_ssize_t row = start; row < stop; row++) {
        Py_ssize_t n = row / g->oh, i = row % g->oh;
        for (Py_ssize_t j = 0; j < g->ow; j++) {
            const float *restrict gp = gy + (row * g->ow + j) * C;
            for (Py_ssize_t p = 0; p < g->kh; p++)
                for (Py_ssize_t q = 0; q < g->kw; q++) {
                    Py_ssize_t at = depthwise_tap(g, n, i, j, p, q);
                    if (at < 0)
                        continue;
                    const float *restrict xs = x + at;
                    float *restrict gwpq = gw + (p * g->kw + q) * C;
                    for (Py_ssize_t c = 0; c < C; c++)
                        gwpq[c] += xs[c] * gp[c];
                }
        }
    }
}

/* ----- one compiled variant per instruction set, chosen when the module loads ------------------------- */
typedef struct {
    void (*forward)(const geometry *, float *, const float *, const float *, float *, Py_ssize_t, Py_ssize_t,
                    const workspace *);
    void (*input_grad)(const geometry *, const float *, const float *, float *, Py_ssize_t, Py_ssize_t,
                       const workspace *);
    void (*weight_grad)(const geometry *, float *, const float *, float *, Py_ssize_t, Py_ssize_t, const workspace *);
} variant;

#define DEFINE_VARIANT(suffix, attributes)                                                                         \
    attributes static void forward_##suffix(const geometry *g, float *x, const float *w, const float *bias,         \
                                            float *out, Py_ssize_t start, Py_ssize_t stop, const workspace *ws)     \
    {                                                                                                               \
        forward_samples(g, x, w, bias, out, start, stop, ws);                                                       \
    }                                                                                                               \
    attributes static void input_grad_##suffix(const geometry *g, const float *gy, const float *w, float *gx,       \
                                               Py_ssize_t start, Py_ssize_t stop, const workspace *ws)              \
    {                                                                                                               \
        input_grad_samples(g, gy, w, gx, start, stop, ws);                                                          \
    }                                                                                                               \
    attributes static void weight_grad_##suffix(const geometry *g, float *x, const float *gy, float *gw,            \
                                                Py_ssize_t start, Py_ssize_t stop, const workspace *ws)             \
    {                                                                                                               \
        weight_grad_samples(g, x, gy, gw, start, stop, ws);                                                         \
    }                                                                                                               \
    static const variant variant_##suffix = {forward_##suffix, input_grad_##suffix, weight_grad_##suffix};

DEFINE_VARIANT(portable, )
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
/* AVX2 with fused multiply-add: 8 lanes, 16 registers (the portable variant is SSE2: two 4-lane halves) */
DEFINE_VARIANT(avx2, __attribute__((target("avx2,fma"))))
#define HAVE_AVX2_VARIANT 1
#endif

static const variant *kernels = &variant_portable;
static const char *kernels_name = "portable";

/* ----- arguments ------------------------------------------------------------------------------------- */
/* Take a 4-d C-contiguous float32 array; dims gets its shape. */
static int
take4(PyObject *object, Py_buffer *b, int writable, const char *kernel, const char *name, Py_ssize_t dims[4])
{
    b->obj = NULL;
    if (PyObject_GetBuffer(object, b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) != 0)
        return -1;
    if (b->ndim != 4 || b->format == NULL || strcmp(b->format, "f") != 0) {
        PyErr_Format(PyExc_TypeError, "%s: %s must be a 4-d float32 array; got %d dimensions of format '%s'", kernel,
                     name, b->ndim, b->format ? b->format : "B");
        return -1;
    }
    for (int k = 0; k < 4; k++)
        dims[k] = b->shape[k];
    return 0;
}

/* The checks shared by the kernels: strides, range, lanes, and that the windows stay inside x. */
static int
check_geometry(const char *kernel, geometry *g, Py_ssize_t start, Py_ssize_t stop, int by_rows, int depthwise)
{
    Py_ssize_t limit = by_rows ? g->n * g->oh : g->n, lanes = by_rows ? g->o : g->c;
    if (g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1) {
        PyErr_Format(PyExc_ValueError, "%s: stride and dilation must be positive", kernel);
        return -1;
    }
    if (!depthwise && (lanes % LANES != 0 || g->real > lanes || g->real <= lanes - LANES)) {
        PyErr_Format(PyExc_ValueError, "%s: %zd %s channels must be stored in %zd lanes (a multiple of %d: pad them "
                     "with zeros); got %zd", kernel, g->real, by_rows ? "output" : "input",
                     g->real + (LANES - g->real % LANES) % LANES, LANES, lanes);
        return -1;
    }
    if (start < 0 || stop > limit || start > stop) {
        PyErr_Format(PyExc_ValueError, "%s: %s [%zd, %zd) are not within the %zd there are", kernel,
                     by_rows ? "output rows" : "samples", start, stop, limit);
        return -1;
    }
    if (g->top < 0 || g->bottom < 0 || g->left < 0 || g->right < 0) {
        PyErr_Format(PyExc_ValueError, "%s: padding (%zd, %zd, %zd, %zd) must not be negative", kernel, g->top,
                     g->bottom, g->left, g->right);
        return -1;
    }
    Py_ssize_t hp = g->hp + g->top + g->bottom, wp = g->wp + g->left + g->right;
    if (g->oh < 0 || g->ow < 0 || (g->oh > 0 && (g->oh - 1) * g->sh + (g->kh - 1) * g->dh >= hp) ||
        (g->ow > 0 && (g->ow - 1) * g->sw + (g->kw - 1) * g->dw >= wp)) {
        PyErr_Format(PyExc_ValueError, "%s: a %zdx%zd output does not fit a %zdx%zd input padded to %zdx%zd with a "
                     "%zdx%zd kernel", kernel, g->oh, g->ow, g->hp, g->wp, hp, wp, g->kh, g->kw);
        return -1;
    }
    return 0;
}

/* A call's workspace (one allocation); NULL with MemoryError set when there is no room. */
static void *
workspace_for(const geometry *g, workspace *ws, int packs)
{
    /* packs: 1 the filters as forward reads them (16-filter blocks × C), 2 as input_grad (16-channel blocks × O) */
    Py_ssize_t blocks = packs == 1 ? (g->o + 2 * LANES - 1) / (2 * LANES) : (g->c + 2 * LANES - 1) / (2 * LANES);
    size_t packed = packs ? (size_t)(blocks * 2 * LANES * (packs == 1 ? g->c : g->o) * g->kh * g->kw) : 0;
    size_t taps = (size_t)(TILE * g->kh * g->kw);
    size_t steps = (size_t)(g->kh * g->kw), outside = (size_t)(g->c > g->o ? g->c : g->o) + 2 * LANES;
    size_t rest = taps * sizeof(float *) + steps * sizeof(Py_ssize_t) + outside * sizeof(float);
    char *block = PyMem_RawMalloc(packed * sizeof(float) + rest); /* the packed filters are all written */
    if (block == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memset(block + packed * sizeof(float), 0, rest);
    ws->packed = (float *)block;
    ws->taps = (float **)(block + packed * sizeof(float));
    ws->tap_steps = (Py_ssize_t *)(block + packed * sizeof(float) + taps * sizeof(float *));
    ws->outside = (float *)(block + packed * sizeof(float) + taps * sizeof(float *) + steps * sizeof(Py_ssize_t));
    for (Py_ssize_t p = 0; p < g->kh; p++)
        for (Py_ssize_t q = 0; q < g->kw; q++)
            ws->tap_steps[p * g->kw + q] = tap_offset(g, p, q);
    return block;
}

/* forward(x, w, bias, out, ...): w (O, C, KH, KW) as PyTorch keeps it, out (N, OH, OW, O rounded up to 8);
 * depthwise_forward: w (KH, KW, 1, C), out (N, OH, OW, C). */
static PyObject *
forward_kernel(PyObject *args, const char *kernel, int depthwise)
{
    PyObject *xo, *wo, *bo, *oo;
    geometry g;
    Py_ssize_t start, stop, xd[4], wd[4], od[4];
    int split_filters = 0;
    Py_ssize_t pad[4];
    if (!PyArg_ParseTuple(args, "OOOOnnnnnnnnnn|p", &xo, &wo, &bo, &oo, &g.sh, &g.sw, &g.dh, &g.dw, &pad[0], &pad[1],
                          &pad[2], &pad[3], &start, &stop, &split_filters))
        return NULL;
    Py_buffer b[4] = {{0}};
    workspace ws;
    void *space = NULL;
    int ok = take4(xo, &b[0], 0, kernel, "x", xd) == 0 && take4(wo, &b[1], 0, kernel, "w", wd) == 0 &&
             take4(oo, &b[2], 1, kernel, "out", od) == 0;
    Py_ssize_t filters = depthwise ? wd[3] : wd[0], channels = depthwise ? wd[3] : wd[1];
    if (ok && bo != Py_None) {
        ok = PyObject_GetBuffer(bo, &b[3], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) == 0;
        if (ok && (b[3].format == NULL || strcmp(b[3].format, "f") != 0 || shendu_values(&b[3]) != filters)) {
            PyErr_Format(PyExc_ValueError, "%s: bias must be %zd float32 values", kernel, filters);
            ok = 0;
        }
    }
    if (ok) {
        Py_ssize_t kh = depthwise ? wd[0] : wd[2], kw = depthwise ? wd[1] : wd[3];
        g = (geometry){xd[0], xd[1], xd[2], xd[3], kh, kw, od[3], od[1], od[2], g.sh, g.sw, g.dh, g.dw, filters,
                       split_filters && !depthwise, pad[0], pad[1], pad[2], pad[3]};
        if (channels != g.c || od[0] != g.n || (depthwise && (wd[2] != 1 || g.o != g.c))) {
            PyErr_Format(PyExc_ValueError, "%s: shapes do not match: x (N, Hp, Wp, %zd), w (%zd, %zd, %zd, %zd), "
                         "out (%zd, OH, OW, %zd)", kernel, g.c, wd[0], wd[1], wd[2], wd[3], od[0], od[3]);
            ok = 0;
        }
        else if (g.split_filters && (start < 0 || start > stop || stop > (g.o + 2 * LANES - 1) / (2 * LANES))) {
            PyErr_Format(PyExc_ValueError, "%s: filter blocks [%zd, %zd) are not within the %zd there are", kernel,
                         start, stop, (g.o + 2 * LANES - 1) / (2 * LANES));
            ok = 0;
        }
        else
            ok = check_geometry(kernel, &g, g.split_filters ? 0 : start, g.split_filters ? g.n * g.oh : stop, 1,
                                depthwise) == 0;
    }
    if (ok && !depthwise)
        ok = (space = workspace_for(&g, &ws, 1)) != NULL;
    if (ok) {
        const float *bias = bo != Py_None ? b[3].buf : NULL;
        Py_BEGIN_ALLOW_THREADS
        if (depthwise)
            depthwise_forward_rows(&g, b[0].buf, b[1].buf, bias, b[2].buf, start, stop);
        else
            kernels->forward(&g, b[0].buf, b[1].buf, bias, b[2].buf, start, stop, &ws);
        Py_END_ALLOW_THREADS
    }
    PyMem_RawFree(space);
    return shendu_finish(b, 4, ok);
}

static PyObject *
forward(PyObject *self, PyObject *args)
{
    return forward_kernel(args, "forward", 0);
}

static PyObject *
depthwise_forward(PyObject *self, PyObject *args)
{
    return forward_kernel(args, "depthwise_forward", 1);
}

/* input_grad with stride 1 as a forward convolution of gy (a gather: no sums added into gx, which forward writes
 * whole): gx[n, h, w, c] = Σ_{p,q,o} gy[n, h + top − p·dh, w + left − q·dw, o] · w[o, c, p, q], i.e. gy padded
 * by (KH − 1)·dh − top (...) correlated with the kernel turned half round and transposed. Returns 0 (scatter
 * instead) for strides above 1, a padding beyond the kernel's reach, or a gx more than 1.25 times gy's size.
 * NOTE: the scatter adds every tap's products into gx; as a gather, 3×3 input gradients went from 61-88 to
 * ~100 GFLOP/s (one thread), as forward. */
static int
gather_geometry(const geometry *g, geometry *gather)
{
    Py_ssize_t reach_h = (g->kh - 1) * g->dh, reach_w = (g->kw - 1) * g->dw;
    *gather = (geometry){g->n, g->oh, g->ow, g->o, g->kh, g->kw, g->c, g->hp, g->wp, 1, 1, g->dh, g->dw, g->real, 0,
                         reach_h - g->top, g->hp + reach_h - g->oh - (reach_h - g->top), reach_w - g->left,
                         g->wp + reach_w - g->ow - (reach_w - g->left), 1};
    /* a gather computes every tap of every gx pixel, padding included: not where gx is much larger than gy (a
     * transposed convolution from 1×1 to 4×4 would do 16 times the work) */
    return g->sh == 1 && g->sw == 1 && gather->top >= 0 && gather->bottom >= 0 && gather->left >= 0 &&
           gather->right >= 0 && 4 * g->hp * g->wp <= 5 * g->oh * g->ow;
}

/* input_grad(gy, w, gx): gy (N, OH, OW, O), w (O, C, KH, KW), gx (N, Hp, Wp, C rounded up to 8) written;
 * weight_grad(x, gy, gw): x (N, Hp, Wp, C), gy (N, OH, OW, O rounded up to 8), gw (KH, KW, C, O rounded up) written;
 * their depthwise forms: the kernel (KH, KW, 1, C) and every channel count C. */
/* Phase (a, b) of a strided input_grad (the gx pixels (a + sh·u, b + sw·v)) as forward's gather over n samples of gy:
 * only the taps p ≡ a + top (mod sh), q ≡ b + left (mod sw) reach them, read turned round (taps gets which of w's
 * taps each packed one is). 1: phase is set; 0: no tap reaches the phase (its gx stays zero); −1: a padding beyond
 * the kernel's reach would need a negative one (the scatter then). */
static int
phase_geometry(const geometry *g, Py_ssize_t n, Py_ssize_t a, Py_ssize_t b, geometry *phase, Py_ssize_t *taps)
{
    Py_ssize_t p0 = (a + g->top) % g->sh, q0 = (b + g->left) % g->sw;
    Py_ssize_t kh = p0 < g->kh ? (g->kh - p0 + g->sh - 1) / g->sh : 0, kw = q0 < g->kw ? (g->kw - q0 + g->sw - 1) / g->sw : 0;
    Py_ssize_t u = a < g->hp ? (g->hp - a + g->sh - 1) / g->sh : 0, v = b < g->wp ? (g->wp - b + g->sw - 1) / g->sw : 0;
    if (kh == 0 || kw == 0 || u == 0 || v == 0)
        return 0;
    /* gx[a + sh·u] = Σ_m gy[u + (a + top − p0) / sh − m] · w[p0 + sh·m]: a stride-1 window over gy starting lead_h
     * rows before u, the taps turned round */
    Py_ssize_t lead_h = kh - 1 - (a + g->top - p0) / g->sh, lead_w = kw - 1 - (b + g->left - q0) / g->sw;
    if (lead_h < 0 || lead_w < 0)
        return -1;
    Py_ssize_t after_h = u + kh - 1 - lead_h - g->oh, after_w = v + kw - 1 - lead_w - g->ow;
    *phase = (geometry){n, g->oh, g->ow, g->o, kh, kw, g->c, u, v, 1, 1, 1, 1, g->real, 0, lead_h,
                        after_h > 0 ? after_h : 0, lead_w, after_w > 0 ? after_w : 0, 1, taps, g->kh * g->kw};
    for (Py_ssize_t p = 0; p < kh; p++)
        for (Py_ssize_t q = 0; q < kw; q++)
            taps[p * kw + q] = (p0 + g->sh * (kh - 1 - p)) * g->kw + q0 + g->sw * (kw - 1 - q);
    return 1;
}

#define MAX_PHASES 16 /* strides up to 4×4 take the phases */

/* The phases of a strided input_grad (phase_geometry, each over all samples; taps: sh·sw·KH·KW) and the units its
 * work is shared in: Σ over phases of N·(the phase's taps, or 1 for a phase that is only zeroed). 0: not phase by
 * phase (stride 1, dilation, more than MAX_PHASES phases, or a padding beyond the kernel's reach). */
static Py_ssize_t
plan_phases(const geometry *g, geometry *phases, int *kinds, Py_ssize_t *taps)
{
    if (g->sh * g->sw < 2 || g->sh * g->sw > MAX_PHASES || g->dh != 1 || g->dw != 1)
        return 0;
    Py_ssize_t units = 0;
    for (Py_ssize_t i = 0; i < g->sh * g->sw; i++) {
        kinds[i] = phase_geometry(g, g->n, i / g->sw, i % g->sw, &phases[i], taps + i * g->kh * g->kw);
        if (kinds[i] < 0)
            return 0;
        units += g->n * (kinds[i] == 1 ? phases[i].kh * phases[i].kw : 1);
    }
    return units;
}

/* The first sample of a phase at or after unit u (the phase's units start at offset, per units a sample). */
INLINE Py_ssize_t
phase_sample(Py_ssize_t u, Py_ssize_t offset, Py_ssize_t per, Py_ssize_t n)
{
    Py_ssize_t s = u <= offset ? 0 : (u - offset + per - 1) / per;
    return s < n ? s : n;
}

#define PHASE_SCRATCH (1 << 18) /* floats of a phase's output computed at a time before they go into gx */

/* Units [start, stop) of a strided input_grad (plan_phases): for each phase, its samples there as forward's gather
 * over gy into scratch, then into gx's pixels (a + sh·u, b + sw·v); a phase no tap reaches is zeroed. Threads given
 * different phases each pack only their kernels. NOTE: the scatter adds each tap's partial sums into gx, 32 summed
 * channels at a time; a phase sums all of its taps and channels in registers and writes each pixel once: DCGAN's
 * 256 → 128 4×4 stride-2 transposed layer at batch 64 forward 12.0 → 9.5 ms (PyTorch 9.6), its 128 → 64 one
 * 10.9 → 9.7 (one thread). */
static void
phases_input_grad(const geometry *g, const geometry *phases, const int *kinds, workspace *spaces, float *scratch,
                  const float *gy, const float *w, float *gx, Py_ssize_t start, Py_ssize_t stop)
{
    Py_ssize_t offset = 0;
    for (Py_ssize_t i = 0; i < g->sh * g->sw; i++) {
        const Py_ssize_t a = i / g->sw, b = i % g->sw, per = kinds[i] == 1 ? phases[i].kh * phases[i].kw : 1;
        const Py_ssize_t first = phase_sample(start, offset, per, g->n), last = phase_sample(stop, offset, per, g->n);
        offset += per * g->n;
        if (kinds[i] == 0) {
            for (Py_ssize_t n = first; n < last; n++)
                for (Py_ssize_t h = a; h < g->hp; h += g->sh)
                    for (Py_ssize_t x = b; x < g->wp; x += g->sw)
                        memset(gx + pixel_offset(g, n, h, x), 0, (size_t)g->c * sizeof(float));
            continue;
        }
        geometry phase = phases[i];
        const Py_ssize_t pixels = phase.oh * phase.ow, batch = PHASE_SCRATCH / (pixels * g->c) > 1 ? PHASE_SCRATCH / (pixels * g->c) : 1;
        for (Py_ssize_t n0 = first; n0 < last; n0 += batch) {
            phase.n = last - n0 < batch ? last - n0 : batch;
            kernels->forward(&phase, (float *)gy + n0 * g->oh * g->ow * g->o, w, NULL, scratch, 0, phase.n * phase.oh,
                             &spaces[i]);
            for (Py_ssize_t n = 0; n < phase.n; n++)
                for (Py_ssize_t u = 0; u < phase.oh; u++)
                    for (Py_ssize_t v = 0; v < phase.ow; v++)
                        memcpy(gx + pixel_offset(g, n0 + n, a + g->sh * u, b + g->sw * v),
                               scratch + ((n * phase.oh + u) * phase.ow + v) * g->c, (size_t)g->c * sizeof(float));
        }
    }
}

static PyObject *
backward_kernel(PyObject *args, const char *kernel, int weight, int depthwise, int units_only)
{
    PyObject *ao, *ko, *to;
    geometry g;
    Py_ssize_t start, stop, ad[4], kd[4], td[4];
    Py_ssize_t pad[4];
    int by_units = 0;
    if (units_only) {
        start = stop = 0;
        if (!PyArg_ParseTuple(args, "OOOnnnnnnnn", &ao, &ko, &to, &g.sh, &g.sw, &g.dh, &g.dw, &pad[0], &pad[1],
                              &pad[2], &pad[3]))
            return NULL;
    }
    else if (!PyArg_ParseTuple(args, "OOOnnnnnnnnnn|p", &ao, &ko, &to, &g.sh, &g.sw, &g.dh, &g.dw, &pad[0], &pad[1],
                               &pad[2], &pad[3], &start, &stop, &by_units))
        return NULL;
    Py_buffer b[3] = {{0}};
    workspace ws;
    void *space = NULL;
    const char *names[2][3] = {{"gy", "w", "gx"}, {"x", "gy", "gw"}};
    int ok = take4(ao, &b[0], 0, kernel, names[weight][0], ad) == 0 &&
             take4(ko, &b[1], 0, kernel, names[weight][1], kd) == 0 &&
             take4(to, &b[2], 1, kernel, names[weight][2], td) == 0;
    if (ok) {
        const Py_ssize_t *x = weight ? ad : td, *gy = weight ? kd : ad, *k = weight ? td : kd;
        /* the kernel's (input channels, filters, KH, KW) */
        Py_ssize_t kc, kf, kh, kw;
        if (depthwise) {
            kc = kf = k[2] == 1 ? k[3] : -1;
            kh = k[0], kw = k[1];
        }
        else if (weight) {
            kc = k[2], kf = k[3], kh = k[0], kw = k[1];
        }
        else {
            kc = k[1], kf = k[0], kh = k[2], kw = k[3];
        }
        Py_ssize_t real = weight ? kf : kc;
        g = (geometry){x[0], x[1], x[2], x[3], kh,     kw,     gy[3],  gy[1],  gy[2], g.sh,
                       g.sw, g.dh, g.dw, real, 0,      pad[0], pad[1], pad[2], pad[3]};
        int fits = weight ? (kc == g.c && kf == g.o) : (kf == g.o && (depthwise ? kc == g.c : 1));
        if (gy[0] != g.n || !fits) {
            PyErr_Format(PyExc_ValueError, "%s: shapes do not match: input (%zd, Hp, Wp, %zd), gradient (%zd, OH, OW, "
                         "%zd), kernel with %zd input and %zd output channels", kernel, g.n, g.c, gy[0], g.o, kc, kf);
            ok = 0;
        }
        else
            ok = check_geometry(kernel, &g, by_units ? 0 : start, by_units ? 0 : stop, weight, depthwise) == 0;
    }
    geometry gather, phases[MAX_PHASES];
    int as_gather = ok && !weight && !depthwise && gather_geometry(&g, &gather);
    /* strided, not dilated: phase by phase (start, stop count plan_phases' units) */
    int kinds[MAX_PHASES], as_phases = 0;
    Py_ssize_t *taps = NULL, units = 0;
    workspace spaces[MAX_PHASES];
    void *phase_space[MAX_PHASES] = {NULL};
    float *scratch = NULL;
    if (ok && (by_units || units_only) && !weight && !depthwise) {
        taps = PyMem_RawMalloc((size_t)(g.sh * g.sw * g.kh * g.kw + 1) * sizeof(Py_ssize_t));
        ok = taps != NULL;
        if (!ok)
            PyErr_NoMemory();
        else
            units = plan_phases(&g, phases, kinds, taps);
        as_phases = ok && by_units;
        if (as_phases && (units == 0 || start < 0 || start > stop || stop > units)) {
            PyErr_Format(PyExc_ValueError, "%s: units [%zd, %zd) are not within the %zd of the phases", kernel, start,
                         stop, units);
            ok = 0;
        }
        Py_ssize_t largest = 0;
        for (Py_ssize_t i = 0; ok && as_phases && i < g.sh * g.sw; i++)
            if (kinds[i] == 1) {
                ok = (phase_space[i] = workspace_for(&phases[i], &spaces[i], 1)) != NULL;
                Py_ssize_t floats = phases[i].oh * phases[i].ow * g.c;
                floats = floats * (PHASE_SCRATCH / floats > 1 ? PHASE_SCRATCH / floats : 1);
                largest = floats > largest ? floats : largest;
            }
        if (ok && as_phases) {
            scratch = PyMem_RawMalloc((size_t)(largest + 1) * sizeof(float));
            ok = scratch != NULL;
            if (!ok)
                PyErr_NoMemory();
        }
    }
    if (units_only) {
        PyMem_RawFree(taps);
        shendu_release(b, 3);
        return ok ? PyLong_FromSsize_t(units) : NULL;
    }
    if (ok && !depthwise && !as_phases)
        ok = (space = as_gather ? workspace_for(&gather, &ws, 1) : workspace_for(&g, &ws, weight ? 0 : 2)) != NULL;
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        if (as_phases)
            phases_input_grad(&g, phases, kinds, spaces, scratch, b[0].buf, b[1].buf, b[2].buf, start, stop);
        else if (as_gather)
            kernels->forward(&gather, (float *)b[0].buf, b[1].buf, NULL, b[2].buf, start * gather.oh, stop * gather.oh,
                             &ws);
        else if (depthwise)
            (weight ? depthwise_weight_grad_rows : depthwise_input_grad_samples)(&g, b[0].buf, b[1].buf, b[2].buf,
                                                                                 start, stop);
        else if (weight)
            kernels->weight_grad(&g, b[0].buf, b[1].buf, b[2].buf, start, stop, &ws);
        else
            kernels->input_grad(&g, b[0].buf, b[1].buf, b[2].buf, start, stop, &ws);
        Py_END_ALLOW_THREADS
    }
    PyMem_RawFree(space);
    for (int i = 0; i < MAX_PHASES; i++)
        PyMem_RawFree(phase_space[i]);
    PyMem_RawFree(scratch);
    PyMem_RawFree(taps);
    return shendu_finish(b, 3, ok);
}

static PyObject *
input_grad(PyObject *self, PyObject *args)
{
    return backward_kernel(args, "input_grad", 0, 0, 0);
}

static PyObject *
depthwise_input_grad(PyObject *self, PyObject *args)
{
    return backward_kernel(args, "depthwise_input_grad", 0, 1, 0);
}

static PyObject *
depthwise_weight_grad(PyObject *self, PyObject *args)
{
    return backward_kernel(args, "depthwise_weight_grad", 1, 1, 0);
}

static PyObject *
input_grad_units(PyObject *self, PyObject *args)
{
    return backward_kernel(args, "input_grad_units", 0, 0, 1);
}

static PyObject *
weight_grad(PyObject *self, PyObject *args)
{
    return backward_kernel(args, "weight_grad", 1, 0, 0);
}

static PyMethodDef methods[] = {
    {"forward", forward, METH_VARARGS, "Direct NHWC convolution of samples [start, stop) (see the C source)."},
    {"input_grad", input_grad, METH_VARARGS, "Add a convolution's input gradient for samples [start, stop)."},
    {"weight_grad", weight_grad, METH_VARARGS, "Add a convolution's weight gradient over samples [start, stop)."},
    {"input_grad_units", input_grad_units, METH_VARARGS, "The units a strided input_grad is shared in (0: samples)."},
    {"depthwise_forward", depthwise_forward, METH_VARARGS, "Depthwise forward, w (KH, KW, 1, C) (see the C source)."},
    {"depthwise_input_grad", depthwise_input_grad, METH_VARARGS, "Add a depthwise convolution's input gradient."},
    {"depthwise_weight_grad", depthwise_weight_grad, METH_VARARGS, "Add a depthwise convolution's weight gradient."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_conv", "The direct convolution kernels.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC
PyInit__conv(void)
{
#ifdef HAVE_AVX2_VARIANT
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        kernels = &variant_avx2;
        kernels_name = "avx2";
    }
#endif
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddStringConstant(m, "instruction_set", kernels_name) != 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
