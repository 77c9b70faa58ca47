/* shendu.ops._lstm_cell: one LSTM time step in one call, forward and backward (optional; see recurrent.py).
 *
 * forward_step(a, c_prev, c, tanh_c, h)
 *
 * float32, C-contiguous buffers: a (4H·N values: the step's pre-activations in recurrent.py's internal
 * gate order o, i, f, g, with the sign of the three sigmoid gates folded in, so that their rows hold
 * -a), and c_prev, c, tanh_c, h (H·N values each). In place, as the NumPy loop of LSTMSequence.forward:
 *
 *     a[o, i, f] ← 1 / (1 + exp(a))       (σ of the true pre-activation)
 *     a[g]       ← tanh(a)
 *     c ← f·c_prev + i·g;  tanh_c ← tanh(c);  h ← o·tanh_c
 *
 * NumPy makes eleven calls of this per step (a few µs each on these small blocks); one loop here makes
 * the elementwise part of a seed-LSTM step about six times cheaper. exp and tanh are the Cephes single
 * precision algorithms, written so that GCC vectorises them (within 2 ulp of the exact values, as
 * NumPy's own float32 exp and tanh; the sums and products are the NumPy loop's, in its order).
 *
 * backward_step(fd, f, dc, dh_rec, g)
 *
 * The elementwise part of one back-propagation-through-time step of LSTMSequence.backward, the same
 * operations in the same order as its NumPy loop (so the same numbers, bit for bit): fd holds the
 * step's five factor rows [∂h/∂c, ∂h/∂a_o, ∂c/∂a_i, ∂c/∂a_f, ∂c/∂a_g] (5·H·N values), f the forget
 * gate, dc ∂L/∂c from the step after, dh_rec ∂L/∂h from the step after, g this step's ∂L/∂output (or
 * None). In place: dh = g + dh_rec; rows 0-1 ← dh·row; dc ← dc + row 0; rows 2-4 ← dc·row; dc ← dc·f.
 */
#include "_buffers.h"
#include <stdint.h>

/* e^x: Cody–Waite reduction x = n·ln 2 + r, a degree-7 polynomial for e^r, 2^n from the exponent bits.
 * Below -87.3 it gives 0 (e^x is then under float32's smallest normal: 1 + e^x rounds to 1 anyway). */
static inline float
exp_f32(float x)
{
    const float shifter = 12582912.0f; /* 1.5·2^23: adding and subtracting it rounds to an integer */
    float n = (x * 1.44269504088896341f + shifter) - shifter;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    float clamped = n < -126.0f ? -126.0f : (n > 127.0f ? 127.0f : n);
    int32_t bits = ((int32_t)clamped + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float result = p * scale;
    result = x > 88.7228391f ? __builtin_inff() : result;
    result = x < -87.3365447f ? 0.0f : result;
    return x != x ? x : result; /* NaN stays NaN */
}

/* tanh x: an odd polynomial for |x| < 0.625, else 1 - 2/(e^{2|x|} + 1) with x's sign (Cephes tanhf). */
static inline float
tanh_f32(float x)
{
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * x + x;
    float magnitude = x < 0.0f ? -x : x;
    float large = 1.0f - 2.0f / (exp_f32(magnitude + magnitude) + 1.0f);
    large = x < 0.0f ? -large : large;
    small = x == 0.0f ? x : small;            /* tanh(-0) = -0 */
    return magnitude < 0.625f ? small : large; /* NaN: the polynomial, which keeps it */
}

SHENDU_CLONES static void
step(Py_ssize_t hn, float *restrict a, const float *restrict c_prev, float *restrict c, float *restrict tanh_c,
     float *restrict h)
{
    float *o = a, *i = a + hn, *f = a + 2 * hn, *g = a + 3 * hn;
    for (Py_ssize_t k = 0; k < 3 * hn; k++) {
        float s = exp_f32(a[k]);
        s = s + 1.0f;
        a[k] = 1.0f / s;
    }
    for (Py_ssize_t k = 0; k < hn; k++)
        g[k] = tanh_f32(g[k]);
    for (Py_ssize_t k = 0; k < hn; k++) {
        float cell = f[k] * c_prev[k];
        float ig = i[k] * g[k];
        cell = cell + ig;
        c[k] = cell;
        float t = tanh_f32(cell);
        tanh_c[k] = t;
        h[k] = o[k] * t;
    }
}

SHENDU_CLONES static void
back(Py_ssize_t hn, float *restrict fd, const float *restrict f, float *restrict dc, const float *restrict dh_rec,
     const float *restrict g)
{
    float *by_c = fd, *by_o = fd + hn, *by_i = fd + 2 * hn, *by_f = fd + 3 * hn, *by_g = fd + 4 * hn;
    for (Py_ssize_t k = 0; k < hn; k++) {
        float dh = g ? g[k] + dh_rec[k] : dh_rec[k];
        float to_c = dh * by_c[k];
        by_c[k] = to_c;
        by_o[k] = dh * by_o[k];
        float cell = dc[k] + to_c;
        by_i[k] = cell * by_i[k];
        by_f[k] = cell * by_f[k];
        by_g[k] = cell * by_g[k];
        dc[k] = cell * f[k];
    }
}

/* Run one of the two steps on the arrays in args, as spec describes them. */
static PyObject *
run(PyObject *args, const shendu_arrays *spec, int forward)
{
    PyObject *objects[5];
    Py_buffer buffers[5];
    Py_ssize_t hn;
    if (!PyArg_UnpackTuple(args, spec->kernel, 5, 5, &objects[0], &objects[1], &objects[2], &objects[3], &objects[4]))
        return NULL;
    int taken = shendu_take(spec, objects, buffers, &hn);
    if (hn >= 0) {
        Py_BEGIN_ALLOW_THREADS
        if (forward)
            step(hn, buffers[0].buf, buffers[1].buf, buffers[2].buf, buffers[3].buf, buffers[4].buf);
        else
            back(hn, buffers[0].buf, buffers[1].buf, buffers[2].buf, buffers[3].buf, buffers[4].buf);
        Py_END_ALLOW_THREADS
    }
    shendu_release(buffers, taken);
    if (hn < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
forward_step(PyObject *self, PyObject *args)
{
    (void)self;
    static const char *names[5] = {"a", "c_prev", "c", "tanh_c", "h"};
    static const int units[5] = {4, 1, 1, 1, 1}, writable[5] = {1, 0, 1, 1, 1}, optional[5] = {0, 0, 0, 0, 0};
    static const shendu_arrays spec = {"forward_step", 5, names, units, writable, optional, "f"};
    return run(args, &spec, 1);
}

static PyObject *
backward_step(PyObject *self, PyObject *args)
{
    (void)self;
    static const char *names[5] = {"fd", "f", "dc", "dh_rec", "g"};
    static const int units[5] = {5, 1, 1, 1, 1}, writable[5] = {1, 0, 1, 0, 0}, optional[5] = {0, 0, 0, 0, 1};
    static const shendu_arrays spec = {"backward_step", 5, names, units, writable, optional, "f"};
    return run(args, &spec, 0);
}

static PyMethodDef methods[] = {
    {"forward_step", forward_step, METH_VARARGS, "One LSTM step's gates and cell update, in place (see the C source)."},
    {"backward_step", backward_step, METH_VARARGS, "One LSTM step of back-propagation, in place (see the C source)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_lstm_cell", "The LSTM step kernel.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC
PyInit__lstm_cell(void)
{
    return PyModule_Create(&module);
}
