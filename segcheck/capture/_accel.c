/* Optional C accelerator for the capture readers: the pcap record-header walk.
 *
 * The pure-Python walk in records.py is the reference and the fallback; this module must give
 * exactly the same result. Built by setup.py when a compiler is available (optional=True).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t rd32(const unsigned char *p, int big) {
    if (big)
        return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

/* walk_pcap(buf, out, o, big_endian, limit, stop_at) -> (count, next_offset, bad or -1)
 *
 * Writes record start offsets (int64) into the writable buffer `out`. Stops before a record
 * that does not fit in buf, at stop_at, at an impossible caplen (> limit), or when out is full.
 */
static PyObject *walk_pcap(PyObject *self, PyObject *args) {
    Py_buffer in, out;
    long long o, limit, stop_at;
    int big;
    if (!PyArg_ParseTuple(args, "y*w*LpLL", &in, &out, &o, &big, &limit, &stop_at))
        return NULL;
    const unsigned char *b = (const unsigned char *)in.buf;
    long long size = (long long)in.len;
    int64_t *dst = (int64_t *)out.buf;
    Py_ssize_t cap = out.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t n = 0;
    long long bad = -1;
    Py_BEGIN_ALLOW_THREADS
    while (o + 16 <= size && o < stop_at && n < cap) {
#if defined(__GNUC__)
        /* Records are consecutive: fetch ahead so the dependent header loads hit the cache. */
        if (o + 4096 < size)
            __builtin_prefetch(b + o + 4096);
#endif
        long long c = rd32(b + o + 8, big);
        if (c > limit) {
            bad = c;
            break;
        }
        if (o + 16 + c > size)
            break;
        dst[n++] = o;
        o += 16 + c;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&in);
    PyBuffer_Release(&out);
    return Py_BuildValue("nLL", n, o, bad);
}

static PyMethodDef methods[] = {
    {"walk_pcap", walk_pcap, METH_VARARGS, "Record start offsets of a pcap chunk."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_accel", NULL, -1, methods};

PyMODINIT_FUNC PyInit__accel(void) { return PyModule_Create(&module); }
