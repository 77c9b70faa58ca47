/* shendu.optim._fused: the Adam update in one pass over memory (optional; see _compiled.py).
 *
 * adam_update(p, g, m, v, vmax, decay_m, decay_v, rescale_max, eps_q, k,
 *             maximize, weight_decay, shrink, amsgrad)
 *
 * p, m, v, vmax: writable 1-d contiguous buffers; g: a readable one; all float32 ("f") or all
 * float64 ("d"), of one length. The scalars are rounded to that precision first, as NumPy does with
 * a Python float against a float32 array. Per element, in the order of the NumPy kernel (adam.py):
 *
 *     w ← w·shrink                     (when shrink ≠ 1: decoupled weight decay)
 *     g ← ±g + λ·w                     (maximize, weight_decay λ)
 *     m ← m·decay_m + g;  v ← v·decay_v + g·g
 *     vmax ← max(vmax·rescale_max, v), v ← vmax   (amsgrad)
 *     w ← w + m / (√v + eps_q) · k
 *
 * sgd_update(p, g, buf, lr, momentum, dampening, nesterov, maximize, weight_decay, first)
 *
 * buf: the momentum buffer, or None without momentum. Per element, in the order of sgd.py's kernel:
 *
 *     g ← ±g + λ·w;  buf ← g (first step) or buf·μ + g·(1 − dampening);
 *     d ← buf·μ + g (nesterov) or buf (or g without momentum);  w ← w + d·(−lr)
 *
 * Built with -ffp-contract=off: no fused multiply-add, so every result equals the NumPy kernel's bit
 * for bit. The GIL is released during the loop, so threads can share a step.
 */
#include "_buffers.h"
#include <math.h>

/* max as numpy.maximum: NaN if either is NaN */
#define SHENDU_MAXIMUM(a, b) (((a) != (a)) ? (a) : (((b) != (b)) ? (b) : ((a) >= (b) ? (a) : (b))))

/* One loop body, specialised by the compile-time flags DECAY (weight_decay ≠ 0) and AMSGRAD. Multiplying
 * by shrink = 1 or sign = ±1 is exact, so those need no branch: x·1 = x and x·(−1) = −x. */
#define SHENDU_ADAM_LOOP(T, SQRT, DECAY, AMSGRAD)                                                         \
    for (Py_ssize_t i = 0; i < n; i++) {                                                                  \
        T w = p[i] * shrink;                                                                              \
        T gi = g[i] * sign;                                                                               \
        if (DECAY) gi = w * weight_decay + gi;                                                            \
        T mi = m[i] * decay_m + gi;                                                                       \
        T vi = v[i] * decay_v + gi * gi;                                                                  \
        m[i] = mi;                                                                                        \
        v[i] = vi;                                                                                        \
        if (AMSGRAD) {                                                                                    \
            T top = vmax[i] * rescale_max;                                                                \
            top = SHENDU_MAXIMUM(top, vi);                                                                \
            vmax[i] = top;                                                                                \
            vi = top;                                                                                     \
        }                                                                                                 \
        p[i] = w + mi / (SQRT(vi) + eps_q) * k;                                                           \
    }

#define SHENDU_ADAM_VARIANT(NAME, T, SQRT, DECAY, AMSGRAD)                                                \
    SHENDU_CLONES static void NAME(Py_ssize_t n, T *restrict p, const T *restrict g, T *restrict m,        \
                                   T *restrict v, T *restrict vmax, T decay_m, T decay_v, T rescale_max,    \
                                   T eps_q, T k, T sign, T weight_decay, T shrink)                         \
    {                                                                                                     \
        SHENDU_ADAM_LOOP(T, SQRT, DECAY, AMSGRAD)                                                         \
    }

#define SHENDU_ADAM(NAME, T, SQRT)                                                                        \
    SHENDU_ADAM_VARIANT(NAME##_plain, T, SQRT, 0, 0)                                                      \
    SHENDU_ADAM_VARIANT(NAME##_decay, T, SQRT, 1, 0)                                                      \
    SHENDU_ADAM_VARIANT(NAME##_ams, T, SQRT, 0, 1)                                                        \
    SHENDU_ADAM_VARIANT(NAME##_decay_ams, T, SQRT, 1, 1)                                                  \
    static void NAME(Py_ssize_t n, void *p, const void *g, void *m, void *v, void *vmax, double decay_m,   \
                     double decay_v, double rescale_max, double eps_q, double k, int maximize,             \
                     double weight_decay, double shrink, int amsgrad)                                     \
    {                                                                                                     \
        /* the scalars rounded to T first, as NumPy rounds a Python float against a T array */           \
        T args_sign = maximize ? (T)-1 : (T)1;                                                            \
        void (*loop)(Py_ssize_t, T *restrict, const T *restrict, T *restrict, T *restrict, T *restrict, T, T, \
                     T, T, T, T, T, T) =                                                                  \
            weight_decay != 0.0 ? (amsgrad ? NAME##_decay_ams : NAME##_decay)                             \
                                : (amsgrad ? NAME##_ams : NAME##_plain);                                  \
        loop(n, p, g, m, v, amsgrad ? vmax : NULL, (T)decay_m, (T)decay_v, (T)rescale_max, (T)eps_q, (T)k,  \
             args_sign, (T)weight_decay, (T)shrink);                                                      \
    }

SHENDU_ADAM(adam_f32, float, sqrtf)
SHENDU_ADAM(adam_f64, double, sqrt)

/* The SGD loop; the flags are constants where it is inlined, so each variant compiles to its own loop. */
static inline __attribute__((always_inline)) void
sgd_loop(Py_ssize_t n, float *restrict p, const float *restrict g, float *restrict buf, float neg_lr, float momentum,
         float keep, float sign, float weight_decay, const int decay, const int use_momentum, const int first,
         const int damp, const int nesterov)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        float w = p[i];
        float gi = g[i] * sign;
        if (decay) gi = w * weight_decay + gi;
        float d = gi;
        if (use_momentum) {
            float b;
            if (first) b = gi;
            else {
                b = buf[i] * momentum;
                b = damp ? b + gi * keep : b + gi;
            }
            buf[i] = b;
            d = nesterov ? b * momentum + gi : b;
        }
        p[i] = w + d * neg_lr;
    }
}

#define SHENDU_SGD_VARIANT(NAME, DECAY, MOMENTUM, FIRST, DAMP, NESTEROV)                                  \
    SHENDU_CLONES static void NAME(Py_ssize_t n, float *restrict p, const float *restrict g, float *restrict buf, \
                                   float neg_lr, float momentum, float keep, float sign, float weight_decay)     \
    {                                                                                                     \
        sgd_loop(n, p, g, buf, neg_lr, momentum, keep, sign, weight_decay, DECAY, MOMENTUM, FIRST, DAMP, NESTEROV); \
    }

SHENDU_SGD_VARIANT(sgd_plain, 0, 0, 0, 0, 0)
SHENDU_SGD_VARIANT(sgd_decay, 1, 0, 0, 0, 0)
SHENDU_SGD_VARIANT(sgd_momentum, 0, 1, 0, 0, 0)

static void
sgd_any(Py_ssize_t n, float *p, const float *g, float *buf, float neg_lr, float momentum, float keep, float sign,
        float weight_decay, int decay, int use_momentum, int first, int damp, int nesterov)
{
    if (!decay && !use_momentum)
        sgd_plain(n, p, g, buf, neg_lr, momentum, keep, sign, weight_decay);
    else if (decay && !use_momentum)
        sgd_decay(n, p, g, buf, neg_lr, momentum, keep, sign, weight_decay);
    else if (!decay && use_momentum && !first && !damp && !nesterov)
        sgd_momentum(n, p, g, buf, neg_lr, momentum, keep, sign, weight_decay);
    else /* rarer combinations: one loop, flags tested per element */
        sgd_loop(n, p, g, buf, neg_lr, momentum, keep, sign, weight_decay, decay, use_momentum, first, damp, nesterov);
}

static PyObject *
adam_update(PyObject *self, PyObject *args)
{
    (void)self;
    static const char *names[5] = {"p", "g", "m", "v", "vmax"};
    static const int units[5] = {1, 1, 1, 1, 1}, writable[5] = {1, 0, 1, 1, 1}, optional[5] = {0, 0, 0, 0, 0};
    static const shendu_arrays spec = {"adam_update", 5, names, units, writable, optional, "fd"};
    PyObject *objects[5];
    Py_buffer buffers[5];
    double decay_m, decay_v, rescale_max, eps_q, k, weight_decay, shrink;
    int maximize, amsgrad;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "OOOOOdddddpddp:adam_update", &objects[0], &objects[1], &objects[2], &objects[3],
                          &objects[4], &decay_m, &decay_v, &rescale_max, &eps_q, &k, &maximize, &weight_decay,
                          &shrink, &amsgrad))
        return NULL;
    int taken = shendu_take(&spec, objects, buffers, &n);
    if (n >= 0) {
        int single = buffers[0].format[0] == 'f';
        Py_BEGIN_ALLOW_THREADS
        (single ? adam_f32 : adam_f64)(n, buffers[0].buf, buffers[1].buf, buffers[2].buf, buffers[3].buf,
                                       buffers[4].buf, decay_m, decay_v, rescale_max, eps_q, k, maximize,
                                       weight_decay, shrink, amsgrad);
        Py_END_ALLOW_THREADS
    }
    shendu_release(buffers, taken);
    if (n < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* The float64 SGD: NumPy's kernel is two or three passes there; only float32 is compiled. */
static PyObject *
sgd_update(PyObject *self, PyObject *args)
{
    (void)self;
    static const char *names[3] = {"p", "g", "buf"};
    static const int units[3] = {1, 1, 1}, writable[3] = {1, 0, 1}, optional[3] = {0, 0, 1};
    static const shendu_arrays spec = {"sgd_update", 3, names, units, writable, optional, "f"};
    PyObject *objects[3];
    Py_buffer buffers[3];
    double lr, momentum, dampening, weight_decay;
    int nesterov, maximize, first;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "OOOdddppdp:sgd_update", &objects[0], &objects[1], &objects[2], &lr, &momentum,
                          &dampening, &nesterov, &maximize, &weight_decay, &first))
        return NULL;
    int taken = shendu_take(&spec, objects, buffers, &n);
    if (n >= 0) {
        int use_momentum = buffers[2].buf != NULL;
        Py_BEGIN_ALLOW_THREADS
        sgd_any(n, buffers[0].buf, buffers[1].buf, buffers[2].buf, (float)-lr, (float)momentum,
                (float)(1.0 - dampening), maximize ? -1.0f : 1.0f, (float)weight_decay, weight_decay != 0.0,
                use_momentum, first, dampening != 0.0, nesterov);
        Py_END_ALLOW_THREADS
    }
    shendu_release(buffers, taken);
    if (n < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"sgd_update", sgd_update, METH_VARARGS, "The SGD update of one contiguous float32 piece, in place (see the C source)."},
    {"adam_update", adam_update, METH_VARARGS, "The Adam update of one contiguous piece, in place (see the C source)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fused", "Compiled optimiser kernels.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC
PyInit__fused(void)
{
    return PyModule_Create(&module);
}
