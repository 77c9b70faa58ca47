/* shendu.ops._conv: direct 2-D convolution on channels-last (NHWC) float32 arrays (optional; see conv.py).
 *
 * forward(x, w, bias, out, sh, sw, dh, dw, start, stop)
 *     out[n, i, j, o] = bias[o] + Σ_{p,q,c} x[n, i·sh + p·dh, j·sw + q·dw, c] · w[p, q, c, o]
 *     x (N, Hp, Wp, C) already padded, w (KH, KW, C, O), bias (O,) or None, out (N, OH, OW, O) written.
 *     O must be a multiple of 8 (conv.py pads the kernel with zero filters and keeps the first ones).
 * input_grad(gy, wt, gx, sh, sw, dh, dw, start, stop)
 *     gx[n, i·sh + p·dh, j·sw + q·dw, c] += Σ_o gy[n, i, j, o] · wt[p, q, o, c]
 *     gy (N, OH, OW, O), wt (KH, KW, O, C) (the kernel with its channel axes swapped), gx (N, Hp, Wp, C);
 *     C a multiple of 8.
 * weight_grad(x, gy, gw, sh, sw, dh, dw, start, stop)
 *     gw[p, q, c, o] += Σ_{n,i,j} x[n, i·sh + p·dh, j·sw + q·dw, c] · gy[n, i, j, o];  O a multiple of 8.
 *
 * depthwise_forward, depthwise_input_grad, depthwise_weight_grad: the same three for groups = C = O, the kernel
 * (KH, KW, 1, C); any C.
 *
 * forward and weight_grad work on the output rows n·OH + i in [start, stop), input_grad on the samples n in
 * [start, stop) (the rows of one sample overlap in gx), with the GIL released: conv.py shares the work
 * between threads (weight_grad then into one gw per thread). The same three loops are a transposed convolution
 * read the other way round (forward = input_grad, backward = forward and weight_grad).
 *
 * How: the output channels (forward, weight_grad) or input channels (input_grad) are the vector lanes,
 * 16 at a time in two 8-float vectors; six output pixels (forward, input_grad) or four input channels
 * (weight_grad) are register-blocked next to them, so each loaded vector of the kernel serves six
 * multiply-adds. The output pixels are taken in tiles of 192 across rows and samples (a 7×7 map is no
 * run of short rows), and the summed channels in chunks of 32, so that the slice of the kernel a tile
 * reads stays in the L1 cache. Nothing like an im2col matrix is written. Sums run in float32 in a fixed order (the
 * result does not depend on the threads); with FMA they round differently from NumPy's GEMM, within
 * float32 tolerance (the tests compare with the NumPy paths in float64 and float32).
 */
#include "_buffers.h"
#include <stddef.h>

#define INLINE static inline __attribute__((always_inline))

typedef float vf __attribute__((vector_size(32), aligned(4), may_alias));
#define LANES 8
#define PIXELS 6   /* output pixels per block: 6 x 2 accumulators + 2 kernel vectors + 1 broadcast < 16 registers */
#define CHANNELS 4 /* input channels per block in weight_grad */
#define TILE 192   /* output pixels per tile: the kernel slice a block reads is loaded once for all of them */
#define CHUNK 32   /* channels summed per pass over a tile: the slice (kh·kw·32·16 floats) stays in the L1 cache */

typedef struct {
    Py_ssize_t n, hp, wp, c, kh, kw, o, oh, ow;
    Py_ssize_t sh, sw, dh, dw;
} geometry;

/* Where the windows of output pixels r0 .. r0 + count − 1 start in x (N, Hp, Wp, C), with r = (n·OH + i)·OW + j:
 * blocks and tiles run over the pixels of whole rows and samples, so a row's end is no tail. */
static void
window_offsets(const geometry *g, Py_ssize_t r0, int count, Py_ssize_t *offsets)
{
    Py_ssize_t j = r0 % g->ow, row = r0 / g->ow;
    Py_ssize_t n = row / g->oh, i = row % g->oh;
    for (int k = 0; k < count; k++) {
        offsets[k] = ((n * g->hp + i * g->sh) * g->wp + j * g->sw) * g->c;
        if (++j == g->ow) {
            j = 0;
            if (++i == g->oh) {
                i = 0;
                n++;
            }
        }
    }
}

INLINE Py_ssize_t
tap_offset(const geometry *g, Py_ssize_t p, Py_ssize_t q)
{
    return (p * g->dh * g->wp + q * g->dw) * g->c;
}

/* ----- forward: gather ----------------------------------------------------------------------------- */
/* out[r, ob:ob + 8·nv] for px pixels (+)= Σ_{p,q} Σ_{c in the chunk} x[window(r) + tap(p, q) + c] · w[p, q, c, ob:];
 * x and w start at the chunk's first channel, w and out at ob. */
INLINE void
gather_block(const int px, const int nv, const geometry *g, const float *x, const Py_ssize_t *offsets,
             Py_ssize_t chunk, const float *w, const float *bias, int first, float *out)
{
    vf acc[PIXELS][2];
    for (int j = 0; j < px; j++)
        for (int v = 0; v < nv; v++)
            acc[j][v] = !first ? *(const vf *)(out + j * g->o + v * LANES)
                               : (bias ? *(const vf *)(bias + v * LANES) : (vf){0});
    for (Py_ssize_t p = 0; p < g->kh; p++)
        for (Py_ssize_t q = 0; q < g->kw; q++) {
            const float *xs[PIXELS];
            for (int j = 0; j < px; j++)
                xs[j] = x + offsets[j] + tap_offset(g, p, q);
            const float *ws = w + (p * g->kw + q) * g->c * g->o;
            for (Py_ssize_t c = 0; c < chunk; c++) {
                vf w0 = *(const vf *)(ws + c * g->o), w1 = nv > 1 ? *(const vf *)(ws + c * g->o + LANES) : (vf){0};
                for (int j = 0; j < px; j++) {
                    float xv = xs[j][c];
                    acc[j][0] += w0 * xv;
                    if (nv > 1)
                        acc[j][1] += w1 * xv;
                }
            }
        }
    for (int j = 0; j < px; j++)
        for (int v = 0; v < nv; v++)
            *(vf *)(out + j * g->o + v * LANES) = acc[j][v];
}

INLINE void
gather_tile(const int nv, const geometry *g, const float *x, const Py_ssize_t *offsets, int count, Py_ssize_t c0,
            Py_ssize_t chunk, const float *w, const float *bias, float *out)
{
    int k = 0;
    for (; k + PIXELS <= count; k += PIXELS)
        gather_block(PIXELS, nv, g, x + c0, offsets + k, chunk, w + c0 * g->o, bias, c0 == 0, out + k * g->o);
    for (; k < count; k++)
        gather_block(1, nv, g, x + c0, offsets + k, chunk, w + c0 * g->o, bias, c0 == 0, out + k * g->o);
}

INLINE void
forward_samples(const geometry *g, const float *x, const float *w, const float *bias, float *out, Py_ssize_t start,
                Py_ssize_t stop)
{
    Py_ssize_t offsets[TILE];
    for (Py_ssize_t r = start * g->ow; r < stop * g->ow; r += TILE) { /* start, stop: output rows n·OH + i */
        int count = (int)(stop * g->ow - r < TILE ? stop * g->ow - r : TILE);
        window_offsets(g, r, count, offsets);
        for (Py_ssize_t ob = 0; ob < g->o; ob += 2 * LANES)
            for (Py_ssize_t c0 = 0; c0 < g->c; c0 += CHUNK) {
                Py_ssize_t chunk = g->c - c0 < CHUNK ? g->c - c0 : CHUNK;
                const float *b = bias ? bias + ob : NULL;
                if (g->o - ob >= 2 * LANES)
                    gather_tile(2, g, x, offsets, count, c0, chunk, w + ob, b, out + r * g->o + ob);
                else
                    gather_tile(1, g, x, offsets, count, c0, chunk, w + ob, b, out + r * g->o + ob);
            }
    }
}

/* ----- input gradient: scatter ---------------------------------------------------------------------- */
/* For px pixels r: gx[window(r) + tap(p, q) + cb:cb + 8·nv] += Σ_{o in the chunk} gy[r, o] · wt[p, q, o, cb:], every
 * (p, q); gy and wt start at the chunk's first channel, wt and gx at cb. */
INLINE void
scatter_block(const int px, const int nv, const geometry *g, const float *gy, Py_ssize_t chunk, const float *wt,
              float *gx, const Py_ssize_t *offsets)
{
    for (Py_ssize_t p = 0; p < g->kh; p++)
        for (Py_ssize_t q = 0; q < g->kw; q++) {
            vf acc[PIXELS][2];
            for (int j = 0; j < px; j++)
                for (int v = 0; v < nv; v++)
                    acc[j][v] = (vf){0};
            const float *ws = wt + (p * g->kw + q) * g->o * g->c;
            for (Py_ssize_t o = 0; o < chunk; o++) {
                vf w0 = *(const vf *)(ws + o * g->c), w1 = nv > 1 ? *(const vf *)(ws + o * g->c + LANES) : (vf){0};
                for (int j = 0; j < px; j++) {
                    float gv = gy[j * g->o + o];
                    acc[j][0] += w0 * gv;
                    if (nv > 1)
                        acc[j][1] += w1 * gv;
                }
            }
            for (int j = 0; j < px; j++) {
                float *dst = gx + offsets[j] + tap_offset(g, p, q);
                for (int v = 0; v < nv; v++)
                    *(vf *)(dst + v * LANES) += acc[j][v];
            }
        }
}

INLINE void
scatter_tile(const int nv, const geometry *g, const float *gy, const Py_ssize_t *offsets, int count, Py_ssize_t o0,
             Py_ssize_t chunk, const float *wt, float *gx)
{
    int k = 0;
    for (; k + PIXELS <= count; k += PIXELS)
        scatter_block(PIXELS, nv, g, gy + k * g->o + o0, chunk, wt + o0 * g->c, gx, offsets + k);
    for (; k < count; k++)
        scatter_block(1, nv, g, gy + k * g->o + o0, chunk, wt + o0 * g->c, gx, offsets + k);
}

INLINE void
input_grad_samples(const geometry *g, const float *gy, const float *wt, float *gx, Py_ssize_t start, Py_ssize_t stop)
{
    Py_ssize_t offsets[TILE], per_sample = g->oh * g->ow;
    int count = 0;
    /* tiles within a sample: the order of the sums into gx does not depend on how the samples are shared */
    for (Py_ssize_t r = start * per_sample; r < stop * per_sample; r += count) { /* start, stop: samples */
        Py_ssize_t end = (r / per_sample + 1) * per_sample;
        count = (int)(end - r < TILE ? end - r : TILE);
        window_offsets(g, r, count, offsets);
        for (Py_ssize_t cb = 0; cb < g->c; cb += 2 * LANES)
            for (Py_ssize_t o0 = 0; o0 < g->o; o0 += CHUNK) {
                Py_ssize_t chunk = g->o - o0 < CHUNK ? g->o - o0 : CHUNK;
                if (g->c - cb >= 2 * LANES)
                    scatter_tile(2, g, gy + r * g->o, offsets, count, o0, chunk, wt + cb, gx + cb);
                else
                    scatter_tile(1, g, gy + r * g->o, offsets, count, o0, chunk, wt + cb, gx + cb);
            }
    }
}

/* ----- weight gradient: sums of outer products over the pixels of a tile ------------------------------- */
/* gw[p, q, c:c + cs, ob:ob + 8·nv] += Σ_r x[window(r) + tap + c:] ⊗ gy[r, ob:]; x at c, gy and gw at ob. */
INLINE void
outer_block(const int cs, const int nv, const geometry *g, const float *x, const Py_ssize_t *offsets, Py_ssize_t tap,
            int count, const float *gy, float *gw)
{
    vf acc[CHANNELS][2];
    for (int i = 0; i < cs; i++)
        for (int v = 0; v < nv; v++)
            acc[i][v] = *(const vf *)(gw + i * g->o + v * LANES);
    for (int k = 0; k < count; k++) {
        vf g0 = *(const vf *)(gy + k * g->o), g1 = nv > 1 ? *(const vf *)(gy + k * g->o + LANES) : (vf){0};
        const float *xs = x + offsets[k] + tap;
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
outer_channels(const int cs, const geometry *g, const float *x, const Py_ssize_t *offsets, Py_ssize_t tap, int count,
               const float *gy, float *gw)
{
    for (Py_ssize_t ob = 0; ob < g->o; ob += 2 * LANES)
        if (g->o - ob >= 2 * LANES)
            outer_block(cs, 2, g, x, offsets, tap, count, gy + ob, gw + ob);
        else
            outer_block(cs, 1, g, x, offsets, tap, count, gy + ob, gw + ob);
}

INLINE void
weight_grad_samples(const geometry *g, const float *x, const float *gy, float *gw, Py_ssize_t start, Py_ssize_t stop)
{
    Py_ssize_t offsets[TILE];
    for (Py_ssize_t r = start * g->ow; r < stop * g->ow; r += TILE) { /* start, stop: output rows n·OH + i */
        int count = (int)(stop * g->ow - r < TILE ? stop * g->ow - r : TILE);
        window_offsets(g, r, count, offsets);
        for (Py_ssize_t p = 0; p < g->kh; p++)
            for (Py_ssize_t q = 0; q < g->kw; q++) {
                float *gwpq = gw + (p * g->kw + q) * g->c * g->o;
                Py_ssize_t c = 0, tap = tap_offset(g, p, q);
                for (; c + CHANNELS <= g->c; c += CHANNELS)
                    outer_channels(CHANNELS, g, x + c, offsets, tap, count, gy + r * g->o, gwpq + c * g->o);
                for (; c < g->c; c++)
                    outer_channels(1, g, x + c, offsets, tap, count, gy + r * g->o, gwpq + c * g->o);
            }
    }
}

/* ----- depthwise: one filter per channel (groups = C = O), the channels as the vector lanes -------------- */
/* out[n, i, j, c] = bias[c] + Σ_{p,q} x[n, i·sh + p·dh, j·sw + q·dw, c] · w[p, q, c]; output rows [start, stop) */
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
                    const float *restrict xs = x + ((n * g->hp + i * g->sh) * g->wp + j * g->sw) * C + tap_offset(g, p, q);
                    const float *restrict ws = w + (p * g->kw + q) * C;
                    for (Py_ssize_t c = 0; c < C; c++)
                        o[c] += xs[c] * ws[c];
                }
        }
    }
}

/* gx[n, i·sh + p·dh, j·sw + q·dw, c] += gy[n, i, j, c] · w[p, q, c]; samples [start, stop) */
SHENDU_CLONES static void
depthwise_input_grad_samples(const geometry *g, const float *gy, const float *w, float *gx, Py_ssize_t start,
                             Py_ssize_t stop)
{
    const Py_ssize_t C = g->c;
    for (Py_ssize_t n = start; n < stop; n++)
        for (Py_ssize_t i = 0; i < g->oh; i++)
            for (Py_ssize_t j = 0; j < g->ow; j++) {
                const float *restrict gp = gy + ((n * g->oh + i) * g->ow + j) * C;
                for (Py_ssize_t p = 0; p < g->kh; p++)
                    for (Py_ssize_t q = 0; q < g->kw; q++) {
                        float *restrict dst = gx + ((n * g->hp + i * g->sh) * g->wp + j * g->sw) * C + tap_offset(g, p, q);
                        const float *restrict ws = w + (p * g->kw + q) * C;
                        for (Py_ssize_t c = 0; c < C; c++)
                            dst[c] += gp[c] * ws[c];
                    }
            }
}

/* gw[p, q, c] += Σ x[n, i·sh + p·dh, j·sw + q·dw, c] · gy[n, i, j, c]; output rows [start, stop) */
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
                    const float *restrict xs = x + ((n * g->hp + i * g->sh) * g->wp + j * g->sw) * C + tap_offset(g, p, q);
                    float *restrict gwpq = gw + (p * g->kw + q) * C;
                    for (Py_ssize_t c = 0; c < C; c++)
                        gwpq[c] += xs[c] * gp[c];
                }
        }
    }
}

/* ----- one compiled variant per instruction set, chosen when the module loads ------------------------- */
typedef struct {
    void (*forward)(const geometry *, const float *, const float *, const float *, float *, Py_ssize_t, Py_ssize_t);
    void (*input_grad)(const geometry *, const float *, const float *, float *, Py_ssize_t, Py_ssize_t);
    void (*weight_grad)(const geometry *, const float *, const float *, float *, Py_ssize_t, Py_ssize_t);
} variant;

#define DEFINE_VARIANT(suffix, attributes)                                                                         \
    attributes static void forward_##suffix(const geometry *g, const float *x, const float *w, const float *bias,   \
                                            float *out, Py_ssize_t start, Py_ssize_t stop)                          \
    {                                                                                                               \
        forward_samples(g, x, w, bias, out, start, stop);                                                           \
    }                                                                                                               \
    attributes static void input_grad_##suffix(const geometry *g, const float *gy, const float *wt, float *gx,      \
                                               Py_ssize_t start, Py_ssize_t stop)                                   \
    {                                                                                                               \
        input_grad_samples(g, gy, wt, gx, start, stop);                                                             \
    }                                                                                                               \
    attributes static void weight_grad_##suffix(const geometry *g, const float *x, const float *gy, float *gw,      \
                                                Py_ssize_t start, Py_ssize_t stop)                                  \
    {                                                                                                               \
        weight_grad_samples(g, x, gy, gw, start, stop);                                                             \
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

/* The checks shared by the three kernels: strides, sample range, and that the windows stay inside x. */
static int
check_geometry(const char *kernel, geometry *g, Py_ssize_t start, Py_ssize_t stop, int by_rows, int depthwise)
{
    Py_ssize_t limit = by_rows ? g->n * g->oh : g->n, lanes = by_rows ? g->o : g->c;
    if (!depthwise && lanes % LANES != 0) {
        PyErr_Format(PyExc_ValueError, "%s: the %s channels (%zd) must be a multiple of %d (pad them with zeros)",
                     kernel, by_rows ? "output" : "input", lanes, LANES);
        return -1;
    }
    if (g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1) {
        PyErr_Format(PyExc_ValueError, "%s: stride and dilation must be positive", kernel);
        return -1;
    }
    if (start < 0 || stop > limit || start > stop) {
        PyErr_Format(PyExc_ValueError, "%s: %s [%zd, %zd) are not within the %zd there are", kernel,
                     by_rows ? "output rows" : "samples", start, stop, limit);
        return -1;
    }
    if (g->oh < 0 || g->ow < 0 || (g->oh > 0 && (g->oh - 1) * g->sh + (g->kh - 1) * g->dh >= g->hp) ||
        (g->ow > 0 && (g->ow - 1) * g->sw + (g->kw - 1) * g->dw >= g->wp)) {
        PyErr_Format(PyExc_ValueError, "%s: a %zdx%zd output does not fit a %zdx%zd input with a %zdx%zd kernel", kernel,
                     g->oh, g->ow, g->hp, g->wp, g->kh, g->kw);
        return -1;
    }
    return 0;
}

/* forward and depthwise_forward (whose w is (KH, KW, 1, C)) */
static PyObject *
forward_kernel(PyObject *args, const char *kernel, int depthwise)
{
    PyObject *xo, *wo, *bo, *oo;
    geometry g;
    Py_ssize_t start, stop, xd[4], wd[4], od[4];
    if (!PyArg_ParseTuple(args, "OOOOnnnnnn", &xo, &wo, &bo, &oo, &g.sh, &g.sw, &g.dh, &g.dw, &start, &stop))
        return NULL;
    Py_buffer b[4] = {{0}};
    int ok = take4(xo, &b[0], 0, kernel, "x", xd) == 0 && take4(wo, &b[1], 0, kernel, "w", wd) == 0 &&
             take4(oo, &b[2], 1, kernel, "out", od) == 0;
    if (ok && bo != Py_None) {
        ok = PyObject_GetBuffer(bo, &b[3], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) == 0;
        if (ok && (b[3].format == NULL || strcmp(b[3].format, "f") != 0 || shendu_values(&b[3]) != wd[3])) {
            PyErr_Format(PyExc_ValueError, "%s: bias must be %zd float32 values", kernel, wd[3]);
            ok = 0;
        }
    }
    if (ok) {
        g = (geometry){xd[0], xd[1], xd[2], xd[3], wd[0], wd[1], wd[3], od[1], od[2], g.sh, g.sw, g.dh, g.dw};
        if (wd[2] != (depthwise ? 1 : g.c) || od[0] != g.n || od[3] != g.o || (depthwise && g.o != g.c)) {
            PyErr_Format(PyExc_ValueError, "%s: shapes do not match: x (N, Hp, Wp, %zd), w (KH, KW, %zd, %zd), "
                         "out (%zd, OH, OW, %zd)", kernel, g.c, wd[2], wd[3], od[0], od[3]);
            ok = 0;
        }
        else
            ok = check_geometry(kernel, &g, start, stop, 1, depthwise) == 0;
    }
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        (depthwise ? depthwise_forward_rows : kernels->forward)(&g, b[0].buf, b[1].buf, bo != Py_None ? b[3].buf : NULL,
                                                               b[2].buf, start, stop);
        Py_END_ALLOW_THREADS
    }
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

/* input_grad and weight_grad: arrays (a, b, written) of shapes (N, Hp, Wp, C)/(N, OH, OW, O)/(KH, KW, ., .) */
static PyObject *
backward_kernel(PyObject *args, const char *kernel, int weight, int depthwise)
{
    PyObject *ao, *ko, *to;
    geometry g;
    Py_ssize_t start, stop, ad[4], kd[4], td[4];
    if (!PyArg_ParseTuple(args, "OOOnnnnnn", &ao, &ko, &to, &g.sh, &g.sw, &g.dh, &g.dw, &start, &stop))
        return NULL;
    Py_buffer b[3] = {{0}};
    /* input_grad(gy, wt, gx): gy (N, OH, OW, O), wt (KH, KW, O, C), gx (N, Hp, Wp, C) written;
     * weight_grad(x, gy, gw): x (N, Hp, Wp, C), gy (N, OH, OW, O), gw (KH, KW, C, O) written */
    const char *names[2][3] = {{"gy", "wt", "gx"}, {"x", "gy", "gw"}};
    int ok = take4(ao, &b[0], 0, kernel, names[weight][0], ad) == 0 &&
             take4(ko, &b[1], 0, kernel, names[weight][1], kd) == 0 &&
             take4(to, &b[2], 1, kernel, names[weight][2], td) == 0;
    if (ok) {
        const Py_ssize_t *x = weight ? ad : td, *gy = weight ? kd : ad, *k = weight ? td : kd;
        Py_ssize_t kc = weight ? k[2] : k[3], ko_ = weight ? k[3] : k[2];
        if (depthwise) /* the kernel is (KH, KW, 1, C) */
            kc = ko_ = k[2] == 1 ? k[3] : -1;
        g = (geometry){x[0], x[1], x[2], x[3], k[0], k[1], gy[3], gy[1], gy[2], g.sh, g.sw, g.dh, g.dw};
        if (gy[0] != g.n || kc != g.c || ko_ != g.o) {
            PyErr_Format(PyExc_ValueError, "%s: shapes do not match: input (%zd, Hp, Wp, %zd), gradient (%zd, OH, OW, "
                         "%zd), kernel with %zd input and %zd output channels", kernel, g.n, g.c, gy[0], g.o, kc, ko_);
            ok = 0;
        }
        else
            ok = check_geometry(kernel, &g, start, stop, weight, depthwise) == 0;
    }
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        if (weight)
            (depthwise ? depthwise_weight_grad_rows : kernels->weight_grad)(&g, b[0].buf, b[1].buf, b[2].buf, start, stop);
        else
            (depthwise ? depthwise_input_grad_samples : kernels->input_grad)(&g, b[0].buf, b[1].buf, b[2].buf, start,
                                                                              stop);
        Py_END_ALLOW_THREADS
    }
    return shendu_finish(b, 3, ok);
}

static PyObject *
input_grad(PyObject *self, PyObject *args)
{
    return backward_kernel(args, "input_grad", 0, 0);
}

static PyObject *
depthwise_input_grad(PyObject *self, PyObject *args)
{
    return backward_kernel(args, "depthwise_input_grad", 0, 1);
}

static PyObject *
depthwise_weight_grad(PyObject *self, PyObject *args)
{
    return backward_kernel(args, "depthwise_weight_grad", 1, 1);
}

static PyObject *
weight_grad(PyObject *self, PyObject *args)
{
    return backward_kernel(args, "weight_grad", 1, 0);
}

static PyMethodDef methods[] = {
    {"forward", forward, METH_VARARGS, "Direct NHWC convolution of samples [start, stop) (see the C source)."},
    {"input_grad", input_grad, METH_VARARGS, "Add a convolution's input gradient for samples [start, stop)."},
    {"weight_grad", weight_grad, METH_VARARGS, "Add a convolution's weight gradient over samples [start, stop)."},
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
