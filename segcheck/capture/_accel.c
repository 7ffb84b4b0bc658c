/* Optional C accelerator for the capture readers: the pcap record-header walk and the
 * common-case packet decode.
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

static inline uint64_t be(const unsigned char *p, int width) {
    uint64_t v = 0;
    for (int k = 0; k < width; k++)
        v = (v << 8) | p[k];
    return v;
}

/* fast_rows(buf, off, cap, linktype, idx, vo, proto, shi, slo, dhi, dlo, sport, dport, flags,
 *           v4mapped, no_tcp, tunnel_ports, both_ports) -> count
 *
 * The C twin of fastpath.fast_rows_numpy (the reference): for every record that is Ethernet,
 * optionally one 802.1Q tag, IPv4 (IHL >= 5, not a fragment) or IPv6 (no extension header),
 * then TCP or UDP (not a tunnel port), writes its index and fields (int64; addresses uint64)
 * into the output buffers, in record order, and returns how many it wrote. Reads only within
 * buf, exactly the bytes the numpy version gathers. `tunnel_ports`: UDP destination ports
 * that send a record to the slow path; `both_ports`: ports that do so as source port too.
 */
static PyObject *fast_rows(PyObject *self, PyObject *args) {
    Py_buffer bb, ob, cb, lb, o_idx, o_vo, o_proto, o_shi, o_slo, o_dhi, o_dlo, o_sp, o_dp, o_fl,
        tp, bp;
    unsigned long long v4mapped;
    long long no_tcp;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*w*w*w*w*w*w*w*w*w*KLy*y*", &bb, &ob, &cb, &lb,
                          &o_idx, &o_vo, &o_proto, &o_shi, &o_slo, &o_dhi, &o_dlo, &o_sp, &o_dp,
                          &o_fl, &v4mapped, &no_tcp, &tp, &bp))
        return NULL;
    const unsigned char *b = (const unsigned char *)bb.buf;
    long long size = (long long)bb.len;
    const int64_t *off = (const int64_t *)ob.buf, *cap = (const int64_t *)cb.buf,
                  *lt = (const int64_t *)lb.buf, *tports = (const int64_t *)tp.buf,
                  *bports = (const int64_t *)bp.buf;
    Py_ssize_t n_in = ob.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t n_tp = tp.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t n_bp = bp.len / (Py_ssize_t)sizeof(int64_t);
    int64_t *idx = (int64_t *)o_idx.buf, *vo = (int64_t *)o_vo.buf,
            *proto_o = (int64_t *)o_proto.buf, *sp_o = (int64_t *)o_sp.buf,
            *dp_o = (int64_t *)o_dp.buf, *fl_o = (int64_t *)o_fl.buf;
    uint64_t *shi = (uint64_t *)o_shi.buf, *slo = (uint64_t *)o_slo.buf,
             *dhi = (uint64_t *)o_dhi.buf, *dlo = (uint64_t *)o_dlo.buf;
    Py_ssize_t room = o_idx.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t n = 0;
    Py_BEGIN_ALLOW_THREADS
    if (size >= 58 + 14) {
        for (Py_ssize_t i = 0; i < n_in && n < room; i++) {
            long long pos = off[i], c = cap[i];
            if (lt[i] != 1 || c < 34 || pos < 0 || pos + 58 > size)
                continue;
            unsigned et = (unsigned)be(b + pos + 12, 2);
            int tagged = et == 0x8100;
            long long l3 = pos + 14;
            if (tagged) {
                et = (unsigned)be(b + pos + 16, 2);
                l3 = pos + 18;
            }
            unsigned vihl = b[l3], ver = vihl >> 4;
            int v4 = et == 0x0800 && ver == 4, v6 = et == 0x86DD && ver == 6;
            long long ihl = (long long)(vihl & 15) * 4;
            int nofrag = ((b[l3 + 6] & 0x3F) | b[l3 + 7]) == 0;
            unsigned proto = v4 ? b[l3 + 9] : b[l3 + 6];
            long long l4 = l3 + (v4 ? ihl : 40);
            int tcp = proto == 6;
            if (!(((v4 && ihl >= 20 && nofrag) || v6) && (tcp || proto == 17)))
                continue;
            if (c < (l4 - pos) + (tcp ? 14 : 4) || l4 + 14 > size)
                continue;
            long long sport = (long long)be(b + l4, 2), dport = (long long)be(b + l4 + 2, 2);
            if (!tcp) {
                int tun = 0;
                for (Py_ssize_t k = 0; k < n_tp && !tun; k++)
                    tun = dport == tports[k];
                for (Py_ssize_t k = 0; k < n_bp && !tun; k++)
                    tun = sport == bports[k];
                if (tun)
                    continue;
            }
            long long vid = tagged ? (long long)(be(b + pos + 14, 2) & 0xFFF) : 0;
            idx[n] = i;
            vo[n] = vid == 0 ? -1 : vid;
            proto_o[n] = proto;
            if (v4) {
                shi[n] = 0;
                slo[n] = (uint64_t)v4mapped | be(b + l3 + 12, 4);
                dhi[n] = 0;
                dlo[n] = (uint64_t)v4mapped | be(b + l3 + 16, 4);
            } else {
                shi[n] = be(b + l3 + 8, 8);
                slo[n] = be(b + l3 + 16, 8);
                dhi[n] = be(b + l3 + 24, 8);
                dlo[n] = be(b + l3 + 32, 8);
            }
            sp_o[n] = sport;
            dp_o[n] = dport;
            fl_o[n] = tcp ? (long long)b[l4 + 13] : no_tcp;
            n++;
        }
    }
    Py_END_ALLOW_THREADS
    Py_buffer *all[] = {&bb, &ob, &cb, &lb, &o_idx, &o_vo, &o_proto, &o_shi, &o_slo,
                        &o_dhi, &o_dlo, &o_sp, &o_dp, &o_fl, &tp, &bp};
    for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
        PyBuffer_Release(all[k]);
    return PyLong_FromSsize_t(n);
}

static PyMethodDef methods[] = {
    {"walk_pcap", walk_pcap, METH_VARARGS, "Record start offsets of a pcap chunk."},
    {"fast_rows", fast_rows, METH_VARARGS, "Fields of the common-case packets of a batch."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_accel", NULL, -1, methods};

PyMODINIT_FUNC PyInit__accel(void) { return PyModule_Create(&module); }
