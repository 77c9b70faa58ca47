/* shendu.ops._activation: the passes of an activation's backward that NumPy cannot make in one (optional; see
 * activation.py).
 *
 * relu(x, y, start, stop)             y[i] = max(x[i], 0) (NaN kept), for the elements i in [start, stop)
 * relu_grad(gy, y, gx, start, stop)    gx[i] = 0 if y[i] ≤ 0 else gy[i]
 *
 * The arrays are float32 and C-contiguous (activation.py passes the flat views of arrays with one memory order);
 * the GIL is released, so activation.py shares the elements between threads. NOTE: NumPy's gy · (y > 0) casts
 * the mask to float32 in a second, buffered loop: 1.1 ms for ResNet-20's largest activation (8.4 MB), this pass
 * 0.45 ms; as PyTorch's threshold_backward, a NaN or infinite gy where y ≤ 0 gives 0 and a NaN y passes gy on.
 * relu may write in place (y is x): NumPy's maximum(x, 0, out=x) compares with a scalar element by element,
 * 0.8 ms for the same array (resnet18's in-place ReLUs: 17 ms of a batch-16 forward), this pass 0.3 ms.
 */
#include "_buffers.h"

/* Whether [start, stop) lies within count elements (else ValueError). */
static int
elements_within(const char *kernel, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t count)
{
    if (start >= 0 && stop <= count && start <= stop)
        return 1;
    PyErr_Format(PyExc_ValueError, "%s: elements [%zd, %zd) are not within the %zd there are", kernel, start, stop, count);
    return 0;
}

SHENDU_CLONES static void
relu_elements(const float *x, float *y, Py_ssize_t start, Py_ssize_t stop)
{
    for (Py_ssize_t i = start; i < stop; i++)
        y[i] = x[i] > 0.0f || x[i] != x[i] ? x[i] : 0.0f;
}

SHENDU_CLONES static void
relu_grad_elements(const float *gy, const float *y, float *gx, Py_ssize_t start, Py_ssize_t stop)
{
    for (Py_ssize_t i = start; i < stop; i++)
        gx[i] = y[i] <= 0.0f ? 0.0f : gy[i]; /* a NaN y passes gy on, as in PyTorch */
}

static PyObject *
relu(PyObject *self, PyObject *args)
{
    static const char *names[] = {"x", "y"};
    static const int units[] = {1, 1}, writable[] = {0, 1}, optional[] = {0, 0};
    static const shendu_arrays spec = {"relu", 2, names, units, writable, optional, "f"};
    PyObject *objects[2];
    Py_ssize_t start, stop, count;
    if (!PyArg_ParseTuple(args, "OOnn:relu", &objects[0], &objects[1], &start, &stop))
        return NULL;
    Py_buffer b[2] = {{0}};
    int taken = shendu_take(&spec, objects, b, &count);
    int ok = taken == 2 && count >= 0 && elements_within("relu", start, stop, count);
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        relu_elements(b[0].buf, b[1].buf, start, stop);
        Py_END_ALLOW_THREADS
    }
    return shendu_finish(b, taken, ok);
}

static PyObject *
relu_grad(PyObject *self, PyObject *args)
{
    static const char *names[] = {"gy", "y", "gx"};
    static const int units[] = {1, 1, 1}, writable[] = {0, 0, 1}, optional[] = {0, 0, 0};
    static const shendu_arrays spec = {"relu_grad", 3, names, units, writable, optional, "f"};
    PyObject *objects[3];
    Py_ssize_t start, stop, count;
    if (!PyArg_ParseTuple(args, "OOOnn:relu_grad", &objects[0], &objects[1], &objects[2], &start, &stop))
        return NULL;
    Py_buffer b[3] = {{0}};
    int taken = shendu_take(&spec, objects, b, &count);
    int ok = taken == 3 && count >= 0 && elements_within("relu_grad", start, stop, count);
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        relu_grad_elements(b[0].buf, b[1].buf, b[2].buf, start, stop);
        Py_END_ALLOW_THREADS
    }
    return shendu_finish(b, taken, ok);
}

static PyMethodDef methods[] = {
    {"relu", relu, METH_VARARGS, "y = max(x, 0), NaN kept, on the elements [start, stop); y may be x."},
    {"relu_grad", relu_grad, METH_VARARGS, "gx = gy where y > 0, else 0, on the elements [start, stop)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_activation", "The activation kernels.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC
PyInit__activation(void)
{
    return PyModule_Create(&module);
}
