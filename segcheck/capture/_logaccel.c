/* Optional C helpers of the traffic-log readers (segcheck/capture/logflow.py loads them).
 *
 * kv_fields   FortiGate `key=value` tokenising, the same pairs as fortigate_log.pairs()
 * csv_fields  PAN-OS CSV columns of a line without quotes, the same as str.split(",")
 * new_objects slotted dataclass instances in bulk (LogFlow), the same as calling the class
 *
 * Every function gives exactly what its pure-Python counterpart gives (tests compare both on
 * the same lines, damaged ones included); without a compiler the readers use those instead.
 * Lines are decoded as Python does (UTF-8, "replace") and scanned as Unicode, with the
 * character classes of Python's `re` (\w, \s) and str.split(), so non-ASCII lines agree too.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
} Text;

static inline Py_UCS4 at(const Text *t, Py_ssize_t i) { return PyUnicode_READ(t->kind, t->data, i); }

/* `\w` of a str pattern in `re`: alphanumeric (Unicode) or the underscore. */
static inline int is_word(Py_UCS4 c) {
    if (c < 128)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    return Py_UNICODE_ISALNUM(c);
}

static inline int is_space(Py_UCS4 c) { return Py_UNICODE_ISSPACE(c); }

/* The index in `wanted` (a tuple of str) of text[s:e], or -1. */
static Py_ssize_t wanted_index(const Text *t, Py_ssize_t s, Py_ssize_t e, PyObject *wanted) {
    Py_ssize_t len = e - s, k = PyTuple_GET_SIZE(wanted);
    for (Py_ssize_t w = 0; w < k; w++) {
        PyObject *key = PyTuple_GET_ITEM(wanted, w);
        if (PyUnicode_GET_LENGTH(key) != len)
            continue;
        int kk = PyUnicode_KIND(key);
        const void *kd = PyUnicode_DATA(key);
        Py_ssize_t i = 0;
        while (i < len && PyUnicode_READ(kk, kd, i) == at(t, s + i))
            i++;
        if (i == len)
            return w;
    }
    return -1;
}

static int has_escaped_quote(const Text *t) {
    for (Py_ssize_t i = 0; i + 1 < t->n; i++)
        if (at(t, i) == '\\' && at(t, i + 1) == '"')
            return 1;
    return 0;
}

/* The regular-expression path of pairs(): findall of (\w+)=(?:"([^"]*)"|([^\s"]*)).
 * Stores the last value range of each wanted key in vs/ve (-1 when absent). */
static Py_ssize_t scan_regex(const Text *t, PyObject *wanted, Py_ssize_t *vs, Py_ssize_t *ve) {
    Py_ssize_t pos = 0, n = t->n, count = 0;
    while (pos < n) {
        if (!is_word(at(t, pos))) {
            pos++;
            continue;
        }
        Py_ssize_t e = pos;
        while (e < n && is_word(at(t, e)))
            e++;
        if (e >= n || at(t, e) != '=') {
            pos = e; /* no start inside this run of word characters can match either */
            continue;
        }
        Py_ssize_t v = e + 1, s, end;
        if (v < n && at(t, v) == '"') {
            Py_ssize_t q = v + 1;
            while (q < n && at(t, q) != '"')
                q++;
            if (q < n) { /* a closed quoted value */
                s = v + 1;
                end = q;
                v = q + 1;
            } else { /* unclosed: the bare alternative matches nothing at the quote */
                s = end = v;
            }
        } else {
            s = v;
            while (v < n && !is_space(at(t, v)) && at(t, v) != '"')
                v++;
            end = v;
        }
        count++;
        Py_ssize_t w = wanted_index(t, pos, e, wanted);
        if (w >= 0) {
            vs[w] = s;
            ve[w] = end;
        }
        pos = v;
    }
    return count;
}

/* A value of the token path, kept as the tokens it spans (joined by one space). */
typedef struct {
    Py_ssize_t first_s, first_e; /* the part after `="` of the first token... */
    Py_ssize_t tok_from, tok_to; /* ...then whole tokens [tok_from, tok_to) */
    int quoted;
} Value;

/* Builds the value of the token path: parts joined by single spaces, the enclosing quotes
 * stripped (only the opening one when it never closed), then \" -> " (quoted values only). */
static PyObject *token_value(const Text *t, const Value *val, const Py_ssize_t *ts,
                             const Py_ssize_t *te) {
    Py_ssize_t total = val->first_e - val->first_s;
    for (Py_ssize_t k = val->tok_from; k < val->tok_to; k++)
        total += 1 + te[k] - ts[k];
    Py_UCS4 *buf = PyMem_Malloc(sizeof(Py_UCS4) * (size_t)(total > 0 ? total : 1));
    if (buf == NULL)
        return PyErr_NoMemory();
    Py_ssize_t o = 0;
    for (Py_ssize_t i = val->first_s; i < val->first_e; i++)
        buf[o++] = at(t, i);
    for (Py_ssize_t k = val->tok_from; k < val->tok_to; k++) {
        buf[o++] = ' ';
        for (Py_ssize_t i = ts[k]; i < te[k]; i++)
            buf[o++] = at(t, i);
    }
    Py_ssize_t from = 0, to = total;
    if (val->quoted) {
        int closed = total >= 2 && buf[total - 1] == '"' && buf[total - 2] != '\\';
        from = 1;
        to = closed ? total - 1 : total;
    }
    Py_ssize_t w = 0;
    for (Py_ssize_t i = from; i < to; i++) {
        if (val->quoted && buf[i] == '\\' && i + 1 < to && buf[i + 1] == '"') {
            buf[w++] = '"';
            i++;
        } else {
            buf[w++] = buf[i];
        }
    }
    PyObject *out = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, w);
    PyMem_Free(buf);
    return out;
}

/* The token path of pairs() (a line with an escaped quote): whitespace-separated tokens,
 * a quoted value running on over the following tokens until its closing quote. */
static PyObject *scan_tokens(const Text *t, PyObject *wanted, PyObject *out, Py_ssize_t *count) {
    Py_ssize_t cap = 64, ntok = 0, n = t->n;
    Py_ssize_t *ts = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)cap);
    Py_ssize_t *te = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)cap);
    if (ts == NULL || te == NULL)
        goto nomem;
    for (Py_ssize_t i = 0; i < n;) {
        while (i < n && is_space(at(t, i)))
            i++;
        if (i >= n)
            break;
        Py_ssize_t s = i;
        while (i < n && !is_space(at(t, i)))
            i++;
        if (ntok == cap) {
            cap *= 2;
            Py_ssize_t *a = PyMem_Realloc(ts, sizeof(Py_ssize_t) * (size_t)cap);
            if (a == NULL)
                goto nomem;
            ts = a;
            Py_ssize_t *b = PyMem_Realloc(te, sizeof(Py_ssize_t) * (size_t)cap);
            if (b == NULL)
                goto nomem;
            te = b;
        }
        ts[ntok] = s;
        te[ntok] = i;
        ntok++;
    }
    for (Py_ssize_t i = 0; i < ntok;) {
        Py_ssize_t s = ts[i], e = te[i], eq = s;
        i++;
        while (eq < e && at(t, eq) != '=')
            eq++;
        if (eq == e || eq == s) /* no `=`, or nothing before it */
            continue;
        Py_ssize_t ks = s;
        if (at(t, s) == '<') { /* a <PRI> glued to the key: what follows its last `>` */
            for (Py_ssize_t j = s; j < eq; j++)
                if (at(t, j) == '>')
                    ks = j + 1;
        }
        Value val = {eq + 1, e, i, i, 0};
        if (eq + 1 < e && at(t, eq + 1) == '"') {
            val.quoted = 1;
            /* closed? the joined value's last two characters decide */
            for (;;) {
                Py_ssize_t last_s, last_e;
                if (val.tok_to > val.tok_from) {
                    last_s = ts[val.tok_to - 1];
                    last_e = te[val.tok_to - 1];
                } else {
                    last_s = val.first_s;
                    last_e = val.first_e;
                }
                Py_ssize_t len = last_e - last_s;
                int closed;
                if (len >= 2)
                    closed = at(t, last_e - 1) == '"' && at(t, last_e - 2) != '\\';
                else /* one character: the one before it is the joining space, if any */
                    closed = val.tok_to > val.tok_from && at(t, last_e - 1) == '"';
                if (closed || val.tok_to >= ntok)
                    break;
                val.tok_to++;
            }
            i = val.tok_to;
        }
        (*count)++;
        Py_ssize_t w = wanted_index(t, ks, eq, wanted);
        if (w < 0)
            continue;
        PyObject *value = token_value(t, &val, ts, te);
        if (value == NULL)
            goto fail;
        int bad = PyDict_SetItem(out, PyTuple_GET_ITEM(wanted, w), value);
        Py_DECREF(value);
        if (bad)
            goto fail;
    }
    PyMem_Free(ts);
    PyMem_Free(te);
    return out;
nomem:
    PyErr_NoMemory();
fail:
    PyMem_Free(ts);
    PyMem_Free(te);
    return NULL;
}

static int text_of(PyObject *line, PyObject **decoded, Text *t) {
    Py_buffer view;
    if (PyObject_GetBuffer(line, &view, PyBUF_SIMPLE) < 0)
        return -1;
    *decoded = PyUnicode_DecodeUTF8(view.buf, view.len, "replace");
    PyBuffer_Release(&view);
    if (*decoded == NULL)
        return -1;
    t->kind = PyUnicode_KIND(*decoded);
    t->data = PyUnicode_DATA(*decoded);
    t->n = PyUnicode_GET_LENGTH(*decoded);
    return 0;
}

/* kv_fields(line: bytes, wanted: tuple[str, ...]) -> (pairs, {key: value} of wanted keys) */
static PyObject *kv_fields(PyObject *self, PyObject *args) {
    PyObject *line, *wanted, *decoded = NULL, *out = NULL;
    if (!PyArg_ParseTuple(args, "OO!:kv_fields", &line, &PyTuple_Type, &wanted))
        return NULL;
    Py_ssize_t k = PyTuple_GET_SIZE(wanted);
    for (Py_ssize_t w = 0; w < k; w++)
        if (!PyUnicode_Check(PyTuple_GET_ITEM(wanted, w))) {
            PyErr_SetString(PyExc_TypeError, "kv_fields: wanted keys must be str");
            return NULL;
        }
    Text t;
    if (text_of(line, &decoded, &t) < 0)
        return NULL;
    out = PyDict_New();
    if (out == NULL)
        goto fail;
    Py_ssize_t count = 0;
    if (has_escaped_quote(&t)) {
        if (scan_tokens(&t, wanted, out, &count) == NULL)
            goto fail;
    } else {
        Py_ssize_t stack_s[64], stack_e[64];
        Py_ssize_t *vs = stack_s, *ve = stack_e;
        if (k > 64) {
            vs = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)k);
            ve = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)k);
            if (vs == NULL || ve == NULL) {
                PyMem_Free(vs);
                PyMem_Free(ve);
                PyErr_NoMemory();
                goto fail;
            }
        }
        for (Py_ssize_t w = 0; w < k; w++)
            vs[w] = ve[w] = -1;
        count = scan_regex(&t, wanted, vs, ve);
        int err = 0;
        for (Py_ssize_t w = 0; w < k && !err; w++) {
            if (vs[w] < 0)
                continue;
            PyObject *value = PyUnicode_Substring(decoded, vs[w], ve[w]);
            err = value == NULL || PyDict_SetItem(out, PyTuple_GET_ITEM(wanted, w), value) < 0;
            Py_XDECREF(value);
        }
        if (k > 64) {
            PyMem_Free(vs);
            PyMem_Free(ve);
        }
        if (err)
            goto fail;
    }
    Py_DECREF(decoded);
    return Py_BuildValue("(nN)", count, out);
fail:
    Py_XDECREF(decoded);
    Py_XDECREF(out);
    return NULL;
}

/* csv_fields(line: bytes, positions: tuple[int, ...]) -> list | None
 * The columns of text.split(","), only those at `positions` made (the others None); None for
 * a line with a double quote, which needs the csv module. */
static PyObject *csv_fields(PyObject *self, PyObject *args) {
    PyObject *line, *positions, *decoded = NULL, *out = NULL;
    if (!PyArg_ParseTuple(args, "OO!:csv_fields", &line, &PyTuple_Type, &positions))
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(line, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    int quoted = memchr(view.buf, '"', (size_t)view.len) != NULL;
    PyBuffer_Release(&view);
    if (quoted)
        Py_RETURN_NONE;
    Text t;
    if (text_of(line, &decoded, &t) < 0)
        return NULL;
    Py_ssize_t ncols = 1;
    for (Py_ssize_t i = 0; i < t.n; i++)
        ncols += at(&t, i) == ',';
    out = PyList_New(ncols);
    if (out == NULL)
        goto fail;
    for (Py_ssize_t c = 0; c < ncols; c++) {
        Py_INCREF(Py_None);
        PyList_SET_ITEM(out, c, Py_None);
    }
    /* mark the wanted columns, then make them in one pass */
    char *want = PyMem_Calloc((size_t)ncols, 1);
    if (want == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t p = 0; p < PyTuple_GET_SIZE(positions); p++) {
        Py_ssize_t c = PyLong_AsSsize_t(PyTuple_GET_ITEM(positions, p));
        if (c == -1 && PyErr_Occurred()) {
            PyMem_Free(want);
            goto fail;
        }
        if (c >= 0 && c < ncols)
            want[c] = 1;
    }
    Py_ssize_t col = 0, s = 0;
    for (Py_ssize_t i = 0; i <= t.n; i++) {
        if (i < t.n && at(&t, i) != ',')
            continue;
        if (want[col]) {
            PyObject *cell = PyUnicode_Substring(decoded, s, i);
            if (cell == NULL) {
                PyMem_Free(want);
                goto fail;
            }
            PyList_SET_ITEM(out, col, cell);
            Py_DECREF(Py_None);
        }
        col++;
        s = i + 1;
    }
    PyMem_Free(want);
    Py_DECREF(decoded);
    return out;
fail:
    Py_XDECREF(decoded);
    Py_XDECREF(out);
    return NULL;
}

/* new_objects(cls, slots: tuple[member descriptor, ...], rows: list[tuple]) -> list
 * One instance of `cls` a row, each slot set through its descriptor: what the dataclass's
 * __init__ does, without a Python frame and a frozen-instance setattr per field. */
static PyObject *new_objects(PyObject *self, PyObject *args) {
    PyTypeObject *cls;
    PyObject *slots, *rows;
    if (!PyArg_ParseTuple(args, "O!O!O!:new_objects", &PyType_Type, &cls, &PyTuple_Type, &slots,
                          &PyList_Type, &rows))
        return NULL;
    Py_ssize_t nf = PyTuple_GET_SIZE(slots), nr = PyList_GET_SIZE(rows);
    for (Py_ssize_t f = 0; f < nf; f++) {
        PyObject *d = PyTuple_GET_ITEM(slots, f);
        if (Py_TYPE(d)->tp_descr_set == NULL) {
            PyErr_SetString(PyExc_TypeError, "new_objects: a slot without a setter");
            return NULL;
        }
    }
    PyObject *out = PyList_New(nr);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t r = 0; r < nr; r++) {
        PyObject *row = PyList_GET_ITEM(rows, r);
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != nf) {
            PyErr_SetString(PyExc_TypeError, "new_objects: each row is a tuple of every field");
            goto fail;
        }
        PyObject *obj = cls->tp_alloc(cls, 0);
        if (obj == NULL)
            goto fail;
        PyList_SET_ITEM(out, r, obj);
        for (Py_ssize_t f = 0; f < nf; f++) {
            PyObject *d = PyTuple_GET_ITEM(slots, f);
            if (Py_TYPE(d)->tp_descr_set(d, obj, PyTuple_GET_ITEM(row, f)) < 0)
                goto fail;
        }
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

static PyMethodDef methods[] = {
    {"kv_fields", kv_fields, METH_VARARGS, "FortiGate key=value pairs of the wanted keys."},
    {"csv_fields", csv_fields, METH_VARARGS, "Wanted columns of an unquoted CSV line."},
    {"new_objects", new_objects, METH_VARARGS, "Slotted instances in bulk."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_logaccel", NULL, -1, methods};

PyMODINIT_FUNC PyInit__logaccel(void) { return PyModule_Create(&module); }
