/* shendu.ops._activation: the passes of an activation's backward that NumPy cannot make in one (optional; see
 * activation.py).
 *
 * relu_grad(gy, y, gx, start, stop)    gx[i] = 0 if y[i] ≤ 0 else gy[i], for the elements i in [start, stop)
 *
 * The arrays are float32 and C-contiguous (activation.py passes the flat views of arrays with one memory order);
 * the GIL is released, so activation.py shares the elements between threads. NOTE: NumPy's gy · (y > 0) casts
 * the mask to float32 in a second, buffered loop: 1.1 ms for ResNet-20's largest activation (8.4 MB), this pass
 * 0.45 ms; as PyTorch's threshold_backward, a NaN or infinite gy where y ≤ 0 gives 0 and a NaN y passes gy on.
 */
#include "_buffers.h"

SHENDU_CLONES static void
relu_grad_elements(const float *gy, const float *y, float *gx, Py_ssize_t start, Py_ssize_t stop)
{
    for (Py_ssize_t i = start; i < stop; i++)
        gx[i] = y[i] <= 0.0f ? 0.0f : gy[i]; /* a NaN y passes gy on, as in PyTorch */
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
    int ok = taken == 3 && count >= 0;
    if (ok && (start < 0 || stop > count || start > stop)) {
        PyErr_Format(PyExc_ValueError, "relu_grad: elements [%zd, %zd) are not within the %zd there are", start, stop,
                     count);
        ok = 0;
    }
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        relu_grad_elements(b[0].buf, b[1].buf, b[2].buf, start, stop);
        Py_END_ALLOW_THREADS
    }
    return shendu_finish(b, taken, ok);
}

static PyMethodDef methods[] = {
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
