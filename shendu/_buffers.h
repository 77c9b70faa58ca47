/* Taking the arrays a C kernel works on (shared by shendu/optim/_fused.c and shendu/ops/_lstm_cell.c).
 *
 * A kernel gets NumPy arrays as Python objects; this takes their buffers, C-contiguous, writable where
 * the kernel writes, and checks that they fit together: the first sets the format (one of those the
 * kernel accepts) and a unit, count = its values / units[0]; each other holds units[i]·count values
 * of the same format. Errors name the kernel and the argument.
 */
#ifndef SHENDU_BUFFERS_H
#define SHENDU_BUFFERS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* A kernel compiled twice, for AVX2 and for any x86-64, the one the CPU runs chosen when the module loads. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define SHENDU_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SHENDU_CLONES
#endif

typedef struct {
    const char *kernel;   /* for error messages: "adam_update" */
    int count;            /* how many arrays */
    const char **names;   /* their argument names */
    const int *units;     /* values of each, in units of count (the first sets count) */
    const int *writable;  /* which the kernel writes */
    const int *optional;  /* which may be None (buf = NULL) */
    const char *formats;  /* the formats the first may have, one character each: "f", "fd" */
} shendu_arrays;

static inline Py_ssize_t
shendu_values(Py_buffer *b)
{
    return b->itemsize > 0 ? b->len / b->itemsize : 0;
}

/* Take spec->count buffers from objects. Returns how many were taken (release them with
 * shendu_release, whatever happened); *count is the first array's values / units[0], or -1 after an
 * error (then set: the kernel must not run). */
static inline int
shendu_take(const shendu_arrays *spec, PyObject **objects, Py_buffer *buffers, Py_ssize_t *count)
{
    int taken = 0;
    const char *format = NULL;
    *count = -1;
    for (; taken < spec->count; taken++) {
        Py_buffer *b = &buffers[taken];
        b->obj = NULL;
        b->buf = NULL;
        if (spec->optional[taken] && objects[taken] == Py_None)
            continue;
        int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (spec->writable[taken] ? PyBUF_WRITABLE : 0);
        if (PyObject_GetBuffer(objects[taken], b, flags) != 0) {
            *count = -1;
            return taken;
        }
        const char *got = b->format ? b->format : "B";
        Py_ssize_t values = shendu_values(b);
        if (taken == 0) {
            if (strlen(got) != 1 || strchr(spec->formats, got[0]) == NULL) {
                PyErr_Format(PyExc_TypeError, "%s: %s has format '%s'; expected one of '%s' (f: float32, d: float64)",
                             spec->kernel, spec->names[0], got, spec->formats);
                return taken + 1;
            }
            format = got;
            *count = values / spec->units[0];
            if (*count * spec->units[0] != values) {
                PyErr_Format(PyExc_ValueError, "%s: %s has %zd values; expected a multiple of %d", spec->kernel,
                             spec->names[0], values, spec->units[0]);
                *count = -1;
                return taken + 1;
            }
        }
        else if (strcmp(got, format) != 0 || values != spec->units[taken] * *count) {
            PyErr_Format(PyExc_ValueError, "%s: %s must be a C-contiguous array of %zd values of format '%s' like %s; "
                         "got %zd values of format '%s'", spec->kernel, spec->names[taken], spec->units[taken] * *count,
                         format, spec->names[0], values, got);
            *count = -1;
            return taken + 1;
        }
    }
    return taken;
}

static inline void
shendu_release(Py_buffer *buffers, int taken)
{
    for (int k = 0; k < taken; k++)
        if (buffers[k].obj != NULL)
            PyBuffer_Release(&buffers[k]);
}

/* Release the buffers and return a kernel's result: None, or NULL when it failed (the error is set). */
static inline PyObject *
shendu_finish(Py_buffer *buffers, int taken, int ok)
{
    shendu_release(buffers, taken);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

#endif
