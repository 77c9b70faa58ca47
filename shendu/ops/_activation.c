/* shendu.ops._activation: the passes of an activation's backward that NumPy cannot make in one (optional; see
 * activation.py).
 *
 * relu(x, y, start, stop)             y[i] = max(x[i], 0) (NaN kept), for the elements i in [start, stop)
 * relu_grad(gy, y, gx, start, stop)    gx[i] = 0 if y[i] ≤ 0 else gy[i]
 * leaky_relu(x, y, slope, start, stop)             y[i] = x[i] if x[i] > 0 else slope · x[i]
 * leaky_relu_grad(gy, x, gx, slope, start, stop)   gx[i] = gy[i] if x[i] > 0 else slope · gy[i]
 *
 * The arrays are float32 and C-contiguous (activation.py passes the flat views of arrays with one memory order);
 * the GIL is released, so activation.py shares the elements between threads. NOTE: NumPy's gy · (y > 0) casts
 * the mask to float32 in a second, buffered loop: 1.1 ms for ResNet-20's largest activation (8.4 MB), this pass
 * 0.45 ms; as PyTorch's threshold_backward, a NaN or infinite gy where y ≤ 0 gives 0 and a NaN y passes gy on.
 * relu may write in place (y is x): NumPy's maximum(x, 0, out=x) compares with a scalar element by element,
 * 0.8 ms for the same array (resnet18's in-place ReLUs: 17 ms of a batch-16 forward), this pass 0.3 ms.
 * LeakyReLU's backward took four NumPy passes (a mask, its scaling, the product), its forward two: forward and
 * backward of DCGAN's 4 MB discriminator activation 0.85 → 0.50 ms on one thread (as PyTorch, any slope; a NaN x
 * gives slope · gy).
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

SHENDU_CLONES static void
leaky_relu_elements(const float *x, float *y, float slope, Py_ssize_t start, Py_ssize_t stop)
{
    for (Py_ssize_t i = start; i < stop; i++)
        y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

SHENDU_CLONES static void
leaky_relu_grad_elements(const float *gy, const float *x, float *gx, float slope, Py_ssize_t start, Py_ssize_t stop)
{
    for (Py_ssize_t i = start; i < stop; i++)
        gx[i] = x[i] > 0.0f ? gy[i] : slope * gy[i];
}

/* One call of a kernel: its arrays (float32, as many values as the first; the last written), a slope where it takes
 * one, and the elements [start, stop); parsed and checked here, the loop run with the GIL released. */
typedef enum { RELU, RELU_GRAD, LEAKY_RELU, LEAKY_RELU_GRAD } kernel_loop;

typedef struct {
    const char *name;
    kernel_loop loop;
    int arrays;    /* 2 or 3 */
    int has_slope; /* a float after the arrays */
    const char *names[3];
} kernel_call;

static PyObject *
run_kernel(PyObject *args, const kernel_call *call)
{
    static const int units[] = {1, 1, 1}, optional[] = {0, 0, 0};
    const int writable[] = {0, call->arrays == 2, call->arrays == 3};
    const shendu_arrays spec = {call->name, call->arrays, (const char **)call->names, units, writable, optional, "f"};
    PyObject *objects[3] = {NULL, NULL, NULL};
    PyObject *extra[3] = {NULL, NULL, NULL}; /* the slope, start, stop as given */
    Py_ssize_t given = PyTuple_GET_SIZE(args), wanted = call->arrays + call->has_slope + 2;
    if (given != wanted) {
        PyErr_Format(PyExc_TypeError, "%s() takes exactly %zd arguments (%zd given)", call->name, wanted, given);
        return NULL;
    }
    for (int k = 0; k < call->arrays; k++)
        objects[k] = PyTuple_GET_ITEM(args, k);
    for (int k = 0; k < call->has_slope + 2; k++)
        extra[k] = PyTuple_GET_ITEM(args, call->arrays + k);
    double slope = call->has_slope ? PyFloat_AsDouble(extra[0]) : 0.0;
    Py_ssize_t start = PyNumber_AsSsize_t(extra[call->has_slope], PyExc_OverflowError);
    Py_ssize_t stop = PyNumber_AsSsize_t(extra[call->has_slope + 1], PyExc_OverflowError);
    if (PyErr_Occurred())
        return NULL;
    Py_buffer b[3] = {{0}};
    Py_ssize_t count;
    int taken = shendu_take(&spec, objects, b, &count);
    int ok = taken == call->arrays && count >= 0 && elements_within(call->name, start, stop, count);
    if (ok) {
        float *x = b[0].buf, *y = b[1].buf, *z = call->arrays == 3 ? b[2].buf : NULL;
        Py_BEGIN_ALLOW_THREADS
        switch (call->loop) {
        case RELU: relu_elements(x, y, start, stop); break;
        case RELU_GRAD: relu_grad_elements(x, y, z, start, stop); break;
        case LEAKY_RELU: leaky_relu_elements(x, y, (float)slope, start, stop); break;
        case LEAKY_RELU_GRAD: leaky_relu_grad_elements(x, y, z, (float)slope, start, stop); break;
        }
        Py_END_ALLOW_THREADS
    }
    return shendu_finish(b, taken, ok);
}

static PyObject *
relu(PyObject *self, PyObject *args)
{
    static const kernel_call call = {"relu", RELU, 2, 0, {"x", "y"}};
    return run_kernel(args, &call);
}

static PyObject *
relu_grad(PyObject *self, PyObject *args)
{
    static const kernel_call call = {"relu_grad", RELU_GRAD, 3, 0, {"gy", "y", "gx"}};
    return run_kernel(args, &call);
}

static PyObject *
leaky_relu(PyObject *self, PyObject *args)
{
    static const kernel_call call = {"leaky_relu", LEAKY_RELU, 2, 1, {"x", "y"}};
    return run_kernel(args, &call);
}

static PyObject *
leaky_relu_grad(PyObject *self, PyObject *args)
{
    static const kernel_call call = {"leaky_relu_grad", LEAKY_RELU_GRAD, 3, 1, {"gy", "x", "gx"}};
    return run_kernel(args, &call);
}

static PyMethodDef methods[] = {
    {"relu", relu, METH_VARARGS, "y = max(x, 0), NaN kept, on the elements [start, stop); y may be x."},
    {"leaky_relu", leaky_relu, METH_VARARGS, "y = x where x > 0, else slope * x, on the elements [start, stop)."},
    {"leaky_relu_grad", leaky_relu_grad, METH_VARARGS, "gx = gy where x > 0, else slope * gy, on [start, stop)."},
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
