/* shendu.ops._batch_norm: batch normalisation's passes over the (M, C) rows of a channels-last input
 * (optional; see normalization.py). float32 rows, per-channel float32 vectors, float64 sums.
 *
 * moments(x, mean, out, start, stop)      out[c] += Σ_r x[r, c]            (mean None)
 *                                         out[c] += Σ_r (x[r, c] − mean[c])²
 * normalize(x, mean, scale, shift, y, start, stop)
 *                                         y[r, c] = (x[r, c] − mean[c]) · scale[c] + shift[c]
 * grad_moments(gy, x, mean, out, start, stop)
 *                                         out[0, c] += Σ_r gy[r, c];  out[1, c] += Σ_r gy[r, c] · (x[r, c] − mean[c])
 * normalize_grad(gy, x, mean, kg, kx, k0, gx, start, stop)
 *                                         gx[r, c] = gy[r, c] · kg[c] + (x[r, c] − mean[c]) · kx[c] + k0[c]
 *
 * Each works on the rows r in [start, stop) with the GIL released, so normalization.py shares the rows
 * between threads (the sums into one out per thread). Training batch norm is then three passes over
 * memory forward (two sums, one output) and two backward, with no temporary array; NumPy needs each
 * of its steps as a pass of its own, and its BLAS sums leave OpenBLAS's threads spinning on the cores
 * the convolution's threads want next.
 */
#include "_buffers.h"

/* The sums take ROW_GROUP rows at a time: one addition into out per group, not per row. NOTE: out[k] += x[r, k]
 * row after row waits on the previous row's store to out (~5 cycles a vector); ResNet-20's Σx over a
 * 131072 × 16 input: 0.49 → ~0.25 ms on one thread. */
#define ROW_GROUP 4

SHENDU_CLONES static void
moments_rows(const float *x, const float *mean, double *out, Py_ssize_t c, Py_ssize_t start, Py_ssize_t stop)
{
    Py_ssize_t r = start;
    for (; r + ROW_GROUP <= stop; r += ROW_GROUP) {
        const float *a = x + r * c, *b = a + c, *d = b + c, *e = d + c;
        if (mean == NULL)
            for (Py_ssize_t k = 0; k < c; k++)
                out[k] += ((double)a[k] + (double)b[k]) + ((double)d[k] + (double)e[k]);
        else
            for (Py_ssize_t k = 0; k < c; k++) {
                float da = a[k] - mean[k], db = b[k] - mean[k], dd = d[k] - mean[k], de = e[k] - mean[k];
                out[k] += ((double)(da * da) + (double)(db * db)) + ((double)(dd * dd) + (double)(de * de));
            }
    }
    for (; r < stop; r++) {
        const float *row = x + r * c;
        if (mean == NULL)
            for (Py_ssize_t k = 0; k < c; k++)
                out[k] += row[k];
        else
            for (Py_ssize_t k = 0; k < c; k++) {
                float d = row[k] - mean[k];
                out[k] += (double)(d * d);
            }
    }
}

SHENDU_CLONES static void
normalize_rows(const float *x, const float *mean, const float *scale, const float *shift, float *y, Py_ssize_t c,
               Py_ssize_t start, Py_ssize_t stop)
{
    for (Py_ssize_t r = start; r < stop; r++)
        for (Py_ssize_t k = 0; k < c; k++)
            y[r * c + k] = (x[r * c + k] - mean[k]) * scale[k] + shift[k];
}

SHENDU_CLONES static void
grad_moments_rows(const float *gy, const float *x, const float *mean, double *out, Py_ssize_t c, Py_ssize_t start,
                  Py_ssize_t stop)
{
    double *sum_g = out, *sum_gx = out + c;
    Py_ssize_t r = start;
    for (; r + ROW_GROUP <= stop; r += ROW_GROUP) {
        const float *g = gy + r * c, *v = x + r * c;
        for (Py_ssize_t k = 0; k < c; k++) {
            float g0 = g[k], g1 = g[c + k], g2 = g[2 * c + k], g3 = g[3 * c + k];
            sum_g[k] += ((double)g0 + (double)g1) + ((double)g2 + (double)g3);
            sum_gx[k] += ((double)(g0 * (v[k] - mean[k])) + (double)(g1 * (v[c + k] - mean[k]))) +
                         ((double)(g2 * (v[2 * c + k] - mean[k])) + (double)(g3 * (v[3 * c + k] - mean[k])));
        }
    }
    for (; r < stop; r++)
        for (Py_ssize_t k = 0; k < c; k++) {
            float g = gy[r * c + k];
            sum_g[k] += g;
            sum_gx[k] += (double)(g * (x[r * c + k] - mean[k]));
        }
}

SHENDU_CLONES static void
normalize_grad_rows(const float *gy, const float *x, const float *mean, const float *kg, const float *kx,
                    const float *k0, float *gx, Py_ssize_t c, Py_ssize_t start, Py_ssize_t stop)
{
    for (Py_ssize_t r = start; r < stop; r++)
        for (Py_ssize_t k = 0; k < c; k++)
            gx[r * c + k] = gy[r * c + k] * kg[k] + (x[r * c + k] - mean[k]) * kx[k] + k0[k];
}

/* ----- arguments ------------------------------------------------------------------------------------- */
/* Take a C-contiguous array of format fmt ("f" or "d") with exactly `values` values (any when values < 0);
 * None gives buf NULL when optional. */
static int
take(PyObject *object, Py_buffer *b, const char *fmt, Py_ssize_t values, int writable, int optional,
     const char *kernel, const char *name)
{
    b->obj = NULL;
    b->buf = NULL;
    if (optional && object == Py_None)
        return 0;
    if (PyObject_GetBuffer(object, b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) != 0)
        return -1;
    if (b->format == NULL || strcmp(b->format, fmt) != 0) {
        PyErr_Format(PyExc_TypeError, "%s: %s must be %s; got format '%s'", kernel, name,
                     fmt[0] == 'f' ? "float32" : "float64", b->format ? b->format : "B");
        return -1;
    }
    if (values >= 0 && shendu_values(b) != values) {
        PyErr_Format(PyExc_ValueError, "%s: %s must hold %zd values; got %zd", kernel, name, values,
                     shendu_values(b));
        return -1;
    }
    return 0;
}

/* The (M, C) rows: a 2-d float32 array, and the row range within it. */
static int
take_rows(PyObject *object, Py_buffer *b, int writable, const char *kernel, const char *name, Py_ssize_t *m,
          Py_ssize_t *c, Py_ssize_t start, Py_ssize_t stop)
{
    if (take(object, b, "f", -1, writable, 0, kernel, name) != 0)
        return -1;
    if (b->ndim != 2) {
        PyErr_Format(PyExc_ValueError, "%s: %s must be an (M, C) matrix; got %d dimensions", kernel, name, b->ndim);
        return -1;
    }
    if (*c >= 0 && (b->shape[0] != *m || b->shape[1] != *c)) {
        PyErr_Format(PyExc_ValueError, "%s: %s has shape (%zd, %zd); expected (%zd, %zd)", kernel, name, b->shape[0],
                     b->shape[1], *m, *c);
        return -1;
    }
    *m = b->shape[0];
    *c = b->shape[1];
    if (start < 0 || stop > *m || start > stop) {
        PyErr_Format(PyExc_ValueError, "%s: rows [%zd, %zd) are not within the %zd there are", kernel, start, stop, *m);
        return -1;
    }
    return 0;
}

static PyObject *
moments(PyObject *self, PyObject *args)
{
    PyObject *xo, *mo, *oo;
    Py_ssize_t start, stop, m = 0, c = -1;
    if (!PyArg_ParseTuple(args, "OOOnn:moments", &xo, &mo, &oo, &start, &stop))
        return NULL;
    Py_buffer b[3] = {{0}};
    int ok = take_rows(xo, &b[0], 0, "moments", "x", &m, &c, start, stop) == 0 &&
             take(mo, &b[1], "f", c, 0, 1, "moments", "mean") == 0 && take(oo, &b[2], "d", c, 1, 0, "moments", "out") == 0;
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        moments_rows(b[0].buf, b[1].buf, b[2].buf, c, start, stop);
        Py_END_ALLOW_THREADS
    }
    return shendu_finish(b, 3, ok);
}

static PyObject *
normalize(PyObject *self, PyObject *args)
{
    PyObject *xo, *mo, *so, *ho, *yo;
    Py_ssize_t start, stop, m = 0, c = -1;
    if (!PyArg_ParseTuple(args, "OOOOOnn:normalize", &xo, &mo, &so, &ho, &yo, &start, &stop))
        return NULL;
    Py_buffer b[5] = {{0}};
    int ok = take_rows(xo, &b[0], 0, "normalize", "x", &m, &c, start, stop) == 0 &&
             take(mo, &b[1], "f", c, 0, 0, "normalize", "mean") == 0 &&
             take(so, &b[2], "f", c, 0, 0, "normalize", "scale") == 0 &&
             take(ho, &b[3], "f", c, 0, 0, "normalize", "shift") == 0 &&
             take_rows(yo, &b[4], 1, "normalize", "y", &m, &c, start, stop) == 0;
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        normalize_rows(b[0].buf, b[1].buf, b[2].buf, b[3].buf, b[4].buf, c, start, stop);
        Py_END_ALLOW_THREADS
    }
    return shendu_finish(b, 5, ok);
}

static PyObject *
grad_moments(PyObject *self, PyObject *args)
{
    PyObject *go, *xo, *mo, *oo;
    Py_ssize_t start, stop, m = 0, c = -1;
    if (!PyArg_ParseTuple(args, "OOOOnn:grad_moments", &go, &xo, &mo, &oo, &start, &stop))
        return NULL;
    Py_buffer b[4] = {{0}};
    int ok = take_rows(go, &b[0], 0, "grad_moments", "gy", &m, &c, start, stop) == 0 &&
             take_rows(xo, &b[1], 0, "grad_moments", "x", &m, &c, start, stop) == 0 &&
             take(mo, &b[2], "f", c, 0, 0, "grad_moments", "mean") == 0 &&
             take(oo, &b[3], "d", 2 * c, 1, 0, "grad_moments", "out") == 0;
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        grad_moments_rows(b[0].buf, b[1].buf, b[2].buf, b[3].buf, c, start, stop);
        Py_END_ALLOW_THREADS
    }
    return shendu_finish(b, 4, ok);
}

static PyObject *
normalize_grad(PyObject *self, PyObject *args)
{
    PyObject *go, *xo, *mo, *kgo, *kxo, *k0o, *gxo;
    Py_ssize_t start, stop, m = 0, c = -1;
    if (!PyArg_ParseTuple(args, "OOOOOOOnn:normalize_grad", &go, &xo, &mo, &kgo, &kxo, &k0o, &gxo, &start, &stop))
        return NULL;
    Py_buffer b[7] = {{0}};
    int ok = take_rows(go, &b[0], 0, "normalize_grad", "gy", &m, &c, start, stop) == 0 &&
             take_rows(xo, &b[1], 0, "normalize_grad", "x", &m, &c, start, stop) == 0 &&
             take(mo, &b[2], "f", c, 0, 0, "normalize_grad", "mean") == 0 &&
             take(kgo, &b[3], "f", c, 0, 0, "normalize_grad", "kg") == 0 &&
             take(kxo, &b[4], "f", c, 0, 0, "normalize_grad", "kx") == 0 &&
             take(k0o, &b[5], "f", c, 0, 0, "normalize_grad", "k0") == 0 &&
             take_rows(gxo, &b[6], 1, "normalize_grad", "gx", &m, &c, start, stop) == 0;
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        normalize_grad_rows(b[0].buf, b[1].buf, b[2].buf, b[3].buf, b[4].buf, b[5].buf, b[6].buf, c, start, stop);
        Py_END_ALLOW_THREADS
    }
    return shendu_finish(b, 7, ok);
}

static PyMethodDef methods[] = {
    {"moments", moments, METH_VARARGS, "Add per-channel sums (or squared deviations) of rows [start, stop)."},
    {"normalize", normalize, METH_VARARGS, "y = (x - mean) * scale + shift on rows [start, stop)."},
    {"grad_moments", grad_moments, METH_VARARGS, "Add per-channel sums of gy and gy * (x - mean)."},
    {"normalize_grad", normalize_grad, METH_VARARGS, "gx = gy * kg + (x - mean) * kx + k0 on rows [start, stop)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_batch_norm", "The batch normalisation kernels.", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC
PyInit__batch_norm(void)
{
    return PyModule_Create(&module);
}
