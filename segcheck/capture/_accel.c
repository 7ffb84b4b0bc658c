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

/* walk_epb(buf, out, o, big_endian, max_block) -> (count, next_offset)
 *
 * The pcapng block walk's common case (records.PcapngReader.batches, the reference): from o,
 * while the next block is an enhanced packet block the Python walk would take (type 6, length
 * a multiple of 4, 32..max_block, inside buf, trailing length equal), writes its offset
 * (int64) into out and steps over it. Stops at any other block, which the Python walk then
 * handles (and judges, when it is damaged), or when out is full.
 */
static PyObject *walk_epb(PyObject *self, PyObject *args) {
    Py_buffer in, out;
    long long o, max_block;
    int big;
    if (!PyArg_ParseTuple(args, "y*w*LpL", &in, &out, &o, &big, &max_block))
        return NULL;
    const unsigned char *b = (const unsigned char *)in.buf;
    long long size = (long long)in.len;
    int64_t *dst = (int64_t *)out.buf;
    Py_ssize_t cap = out.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t n = 0;
    Py_BEGIN_ALLOW_THREADS
    while (o >= 0 && o + 12 <= size && n < cap) {
        long long btype = rd32(b + o, big), blen = rd32(b + o + 4, big);
        if (btype != 6 || blen < 32 || blen % 4 || blen > max_block || o + blen > size)
            break;
        if ((long long)rd32(b + o + blen - 4, big) != blen)
            break;
        dst[n++] = o;
        o += blen;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&in);
    PyBuffer_Release(&out);
    return Py_BuildValue("nL", n, o);
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

/* A flow table grown in place (flowtable.FlowTable): 17 column buffers of some capacity, the
 * first n rows in use, and a persistent open-addressing index of uint32 row numbers (all ones:
 * an empty slot), a power of two slots kept at most half full. Rows or other tables' groups
 * are folded into it without regrouping what is there: a merge costs what it adds, not the
 * table, and never holds the table twice.
 *
 * The columns (flowtable.COLUMNS and flowtable.DTYPES, FLOW_LAYOUT below): the key vo vi
 * (int16), proto (uint8), ahi alo bhi blo (uint64), pa pb (uint16); summed packets bytes
 * (int64); OR-ed bits (uint8: flowtable.SENT_A, SENT_B, ANS_A, ANS_B, REF_A, REF_B, TUNNEL);
 * minimum ts_min fcode syn_a syn_b and maximum ts_max (int64).
 *
 * absorb_rows(rows, start, table, n, index, big, no_tcp, refusal, tunnel_kind) -> (next, n)
 *   rows: 14 int64 buffers (addresses uint64) of decoded rows: vo vi proto shi slo dhi dlo
 *   sport dport frame flags kind ts length; folds rows start.. into the table (the reference
 *   is flowtable.group(flowtable.aggregate_rows(rows))). The caller checks that VLANs,
 *   protocols and ports fit their columns.
 * absorb_columns(cols, start, table, n, index) -> (next, n)
 *   cols: another table's 17 columns; folds them in (sums, ORs, minima, maxima).
 * Both stop before a row that needs a new group when the table is full (n == capacity) or the
 * index would pass half full, and return the first row not folded and the new row count; the
 * caller grows the table (or the index, with reindex) and calls again from there.
 * reindex(table, n, index): fills index (all ones first) from the keys of rows 0..n-1.
 */
#define N_IN 14
#define N_OUT 17
#define N_KEY 9
#define T_EMPTY 0xFFFFFFFFu
#define FLOW_LAYOUT "i2 i2 u1 u8 u8 u8 u8 u2 u2 i8 i8 u1 i8 i8 i8 i8 i8"
static const int COL_SIZE[N_OUT] = {2, 2, 1, 8, 8, 8, 8, 2, 2, 8, 8, 1, 8, 8, 8, 8, 8};
static const int ROW_SIZE[N_IN] = {8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8};

typedef struct {
    int16_t *vo, *vi;
    uint8_t *proto;
    uint64_t *ahi, *alo, *bhi, *blo;
    uint16_t *pa, *pb;
    int64_t *packets, *bytes;
    uint8_t *bits;
    int64_t *ts_min, *fcode, *syn_a, *syn_b, *ts_max;
} Cols;

static void cols_bind(Cols *c, Py_buffer *b) {
    c->vo = b[0].buf;
    c->vi = b[1].buf;
    c->proto = b[2].buf;
    c->ahi = b[3].buf;
    c->alo = b[4].buf;
    c->bhi = b[5].buf;
    c->blo = b[6].buf;
    c->pa = b[7].buf;
    c->pb = b[8].buf;
    c->packets = b[9].buf;
    c->bytes = b[10].buf;
    c->bits = b[11].buf;
    c->ts_min = b[12].buf;
    c->fcode = b[13].buf;
    c->syn_a = b[14].buf;
    c->syn_b = b[15].buf;
    c->ts_max = b[16].buf;
}

/* The key of row j as the hash reads it (signed columns sign-extended, as numpy's uint64). */
static inline void cols_key(const Cols *c, Py_ssize_t j, uint64_t *parts) {
    parts[0] = (uint64_t)(int64_t)c->vo[j];
    parts[1] = (uint64_t)(int64_t)c->vi[j];
    parts[2] = c->proto[j];
    parts[3] = c->ahi[j];
    parts[4] = c->alo[j];
    parts[5] = c->bhi[j];
    parts[6] = c->blo[j];
    parts[7] = c->pa[j];
    parts[8] = c->pb[j];
}

static inline uint64_t key_hash(const uint64_t *parts) {
    uint64_t h = 0;
    for (int k = 0; k < N_KEY; k++) {
        h ^= parts[k];
        h *= 0x9E3779B97F4A7C15ULL;
        h ^= h >> 31;
        h *= 0xBF58476D1CE4E5B9ULL;
    }
    return h;
}

/* Buffers of a tuple of `count` objects (writable ones when `writable`), buffer k holding
 * items of size[k] bytes; on failure nothing stays acquired. */
static int get_buffers(PyObject *seq, Py_buffer *out, int count, int writable, const int *size,
                       const char *what) {
    if (!PyTuple_Check(seq) || PyTuple_GET_SIZE(seq) != count) {
        PyErr_Format(PyExc_ValueError, "%s: a tuple of %d buffers is needed", what, count);
        return -1;
    }
    for (int k = 0; k < count; k++) {
        int flags = PyBUF_FORMAT | PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(seq, k), &out[k], flags) < 0 ||
            out[k].itemsize != size[k]) {
            int got = !PyErr_Occurred();
            if (got) {
                PyErr_Format(PyExc_ValueError, "%s: buffer %d has items of %zd bytes, not %d",
                             what, k, out[k].itemsize, size[k]);
                PyBuffer_Release(&out[k]);
            }
            for (int j = 0; j < k; j++)
                PyBuffer_Release(&out[j]);
            return -1;
        }
    }
    return 0;
}

static void release_buffers(Py_buffer *b, int count) {
    for (int k = 0; k < count; k++)
        PyBuffer_Release(&b[k]);
}

typedef struct {
    Cols o;
    Py_ssize_t cap, n;
    uint32_t *index;
    Py_ssize_t mask; /* slots - 1 */
} Table;

/* The row holding key `parts`, or -1 with *slot_out the empty slot where it would go. */
static inline Py_ssize_t t_find(const Table *t, const uint64_t *parts, Py_ssize_t *slot_out) {
    Py_ssize_t slot = (Py_ssize_t)(key_hash(parts) & (uint64_t)t->mask);
    const Cols *o = &t->o;
    for (;;) {
        uint32_t j = t->index[slot];
        if (j == T_EMPTY) {
            *slot_out = slot;
            return -1;
        }
        /* the most varied key columns first: a miss usually costs one compare */
        if (o->alo[j] == parts[4] && o->blo[j] == parts[6] && o->pa[j] == parts[7] &&
            o->pb[j] == parts[8] && o->ahi[j] == parts[3] && o->bhi[j] == parts[5] &&
            o->proto[j] == parts[2] && (uint64_t)(int64_t)o->vo[j] == parts[0] &&
            (uint64_t)(int64_t)o->vi[j] == parts[1])
            return (Py_ssize_t)j;
        slot = (slot + 1) & t->mask;
    }
}

/* Room for one more group? (the table's capacity, the index at most half full) */
static inline int t_room(const Table *t) {
    return t->n < t->cap && (t->n + 1) * 2 <= t->mask + 1;
}

/* A new group with key `parts` (as cols_key gives it) at the empty `slot` t_find gave; the
 * caller checked t_room. Its row number: the key columns set, the rest left to the caller. */
static inline Py_ssize_t t_add(Table *t, Py_ssize_t slot, const uint64_t *parts) {
    Py_ssize_t j = t->n++;
    Cols *o = &t->o;
    t->index[slot] = (uint32_t)j;
    o->vo[j] = (int16_t)parts[0];
    o->vi[j] = (int16_t)parts[1];
    o->proto[j] = (uint8_t)parts[2];
    o->ahi[j] = parts[3];
    o->alo[j] = parts[4];
    o->bhi[j] = parts[5];
    o->blo[j] = parts[6];
    o->pa[j] = (uint16_t)parts[7];
    o->pb[j] = (uint16_t)parts[8];
    return j;
}

static int t_open(Table *t, Py_buffer *tb, Py_buffer *ib, Py_ssize_t n) {
    t->cap = tb[0].len / tb[0].itemsize;
    for (int k = 1; k < N_OUT; k++)
        if (tb[k].len / tb[k].itemsize < t->cap)
            t->cap = tb[k].len / tb[k].itemsize;
    cols_bind(&t->o, tb);
    Py_ssize_t slots = ib->len / 4;
    if (ib->itemsize != 4 || slots < 2 || (slots & (slots - 1)) || n < 0 || n > t->cap ||
        n * 2 > slots || t->cap > (Py_ssize_t)T_EMPTY - 1) {
        PyErr_SetString(PyExc_ValueError, "flow table: bad capacity, row count or index");
        return -1;
    }
    t->n = n;
    t->index = (uint32_t *)ib->buf;
    t->mask = slots - 1;
    return 0;
}

/* What absorb_rows, absorb_columns and reindex share: a tuple of `n_src` source buffers (read
 * only, item sizes `src_size`; `rows` the shortest one's length), the table's N_OUT writable
 * column buffers and its index, opened as a Table. On failure nothing stays acquired and an
 * exception is set. */
#define N_SRC_MAX (N_IN > N_OUT ? N_IN : N_OUT)
typedef struct {
    Py_buffer src[N_SRC_MAX], tb[N_OUT], ib;
    int n_src;
    Py_ssize_t rows;
    Table t;
} Fold;

static int fold_open(Fold *f, PyObject *src_o, int n_src, const int *src_size, PyObject *table_o,
                     Py_ssize_t n, PyObject *index_o, const char *what) {
    f->n_src = n_src;
    f->rows = 0;
    if (n_src && get_buffers(src_o, f->src, n_src, 0, src_size, what) < 0)
        return -1;
    if (n_src) {
        f->rows = f->src[0].len / src_size[0];
        for (int k = 1; k < n_src; k++)
            if (f->src[k].len / src_size[k] < f->rows)
                f->rows = f->src[k].len / src_size[k];
    }
    if (get_buffers(table_o, f->tb, N_OUT, 1, COL_SIZE, what) < 0) {
        release_buffers(f->src, n_src);
        return -1;
    }
    if (PyObject_GetBuffer(index_o, &f->ib, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
        release_buffers(f->src, n_src);
        release_buffers(f->tb, N_OUT);
        return -1;
    }
    if (t_open(&f->t, f->tb, &f->ib, n) < 0) {
        release_buffers(f->src, n_src);
        release_buffers(f->tb, N_OUT);
        PyBuffer_Release(&f->ib);
        return -1;
    }
    return 0;
}

static void fold_close(Fold *f) {
    release_buffers(f->src, f->n_src);
    release_buffers(f->tb, N_OUT);
    PyBuffer_Release(&f->ib);
}

static PyObject *absorb_rows(PyObject *self, PyObject *args) {
    PyObject *rows_o, *table_o, *index_o;
    Py_ssize_t start, n;
    long long big, no_tcp, refusal, tunnel_kind;
    if (!PyArg_ParseTuple(args, "OnOnOLLLL", &rows_o, &start, &table_o, &n, &index_o, &big,
                          &no_tcp, &refusal, &tunnel_kind))
        return NULL;
    Fold f;
    if (fold_open(&f, rows_o, N_IN, ROW_SIZE, table_o, n, index_o, "absorb_rows") < 0)
        return NULL;
    Table t = f.t;
    Py_ssize_t i = start < 0 ? 0 : start, rows = f.rows;
    const int64_t *vo = f.src[0].buf, *vi = f.src[1].buf, *proto = f.src[2].buf,
                  *sport = f.src[7].buf, *dport = f.src[8].buf, *frame = f.src[9].buf,
                  *flags = f.src[10].buf, *kind = f.src[11].buf, *ts = f.src[12].buf,
                  *length = f.src[13].buf;
    const uint64_t *shi = f.src[3].buf, *slo = f.src[4].buf, *dhi = f.src[5].buf,
                   *dlo = f.src[6].buf;
    Cols o = t.o;
    Py_BEGIN_ALLOW_THREADS
    for (; i < rows; i++) {
        int swap = shi[i] > dhi[i] ||
                   (shi[i] == dhi[i] &&
                    (slo[i] > dlo[i] || (slo[i] == dlo[i] && sport[i] > dport[i])));
        /* the key as the table holds it (the caller checked that each value fits) */
        uint64_t parts[N_KEY] = {(uint64_t)(int64_t)(int16_t)vo[i],
                                 (uint64_t)(int64_t)(int16_t)vi[i],
                                 (uint8_t)proto[i],
                                 swap ? dhi[i] : shi[i],
                                 swap ? dlo[i] : slo[i],
                                 swap ? shi[i] : dhi[i],
                                 swap ? slo[i] : dlo[i],
                                 (uint16_t)(swap ? dport[i] : sport[i]),
                                 (uint16_t)(swap ? sport[i] : dport[i])};
        Py_ssize_t slot, j = t_find(&t, parts, &slot);
        if (j < 0) {
            if (!t_room(&t))
                break;
            j = t_add(&t, slot, parts);
            o.packets[j] = o.bytes[j] = 0;
            o.bits[j] = 0;
            o.ts_min[j] = INT64_MAX; /* flowtable.TS_NEVER_MIN */
            o.fcode[j] = o.syn_a[j] = o.syn_b[j] = big;
            o.ts_max[j] = INT64_MIN; /* flowtable.TS_NEVER_MAX */
        }
        if (kind[i] != refusal) {
            o.packets[j] += 1;
            o.bytes[j] += length[i];
            uint8_t bits = swap ? 2 : 1; /* SENT_B, SENT_A */
            if ((flags[i] & (no_tcp | 0x04)) != 0x04) /* anything but a TCP RST */
                bits |= swap ? 8 : 4;                 /* ANS_B, ANS_A */
            o.bits[j] |= bits;
            if (ts[i] < o.ts_min[j])
                o.ts_min[j] = ts[i];
            int64_t fc = frame[i] * 2 + swap;
            if (fc < o.fcode[j])
                o.fcode[j] = fc;
            if ((flags[i] & (no_tcp | 0x12)) == 0x02) { /* SYN without ACK */
                int64_t *sm = swap ? &o.syn_b[j] : &o.syn_a[j];
                if (frame[i] < *sm)
                    *sm = frame[i];
            }
            if (ts[i] > o.ts_max[j])
                o.ts_max[j] = ts[i];
        } else { /* a refusal mark */
            o.bits[j] |= swap ? 32 : 16; /* REF_B, REF_A */
        }
        if (kind[i] == tunnel_kind)
            o.bits[j] |= 64; /* TUNNEL */
    }
    Py_END_ALLOW_THREADS
    fold_close(&f);
    return Py_BuildValue("nn", i, t.n);
}

static PyObject *absorb_columns(PyObject *self, PyObject *args) {
    PyObject *cols_o, *table_o, *index_o;
    Py_ssize_t start, n;
    if (!PyArg_ParseTuple(args, "OnOnO", &cols_o, &start, &table_o, &n, &index_o))
        return NULL;
    Fold f;
    if (fold_open(&f, cols_o, N_OUT, COL_SIZE, table_o, n, index_o, "absorb_columns") < 0)
        return NULL;
    Table t = f.t;
    Py_ssize_t i = start < 0 ? 0 : start, rows = f.rows;
    Cols c, o = t.o;
    cols_bind(&c, f.src);
    Py_BEGIN_ALLOW_THREADS
    for (; i < rows; i++) {
        uint64_t parts[N_KEY];
        cols_key(&c, i, parts);
        Py_ssize_t slot, j = t_find(&t, parts, &slot);
        if (j < 0) {
            if (!t_room(&t))
                break;
            j = t_add(&t, slot, parts);
            o.packets[j] = c.packets[i];
            o.bytes[j] = c.bytes[i];
            o.bits[j] = c.bits[i];
            o.ts_min[j] = c.ts_min[i];
            o.fcode[j] = c.fcode[i];
            o.syn_a[j] = c.syn_a[i];
            o.syn_b[j] = c.syn_b[i];
            o.ts_max[j] = c.ts_max[i];
            continue;
        }
        o.packets[j] += c.packets[i];
        o.bytes[j] += c.bytes[i];
        o.bits[j] |= c.bits[i];
        if (c.ts_min[i] < o.ts_min[j])
            o.ts_min[j] = c.ts_min[i];
        if (c.fcode[i] < o.fcode[j])
            o.fcode[j] = c.fcode[i];
        if (c.syn_a[i] < o.syn_a[j])
            o.syn_a[j] = c.syn_a[i];
        if (c.syn_b[i] < o.syn_b[j])
            o.syn_b[j] = c.syn_b[i];
        if (c.ts_max[i] > o.ts_max[j])
            o.ts_max[j] = c.ts_max[i];
    }
    Py_END_ALLOW_THREADS
    fold_close(&f);
    return Py_BuildValue("nn", i, t.n);
}

static PyObject *reindex(PyObject *self, PyObject *args) {
    PyObject *table_o, *index_o;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "OnO", &table_o, &n, &index_o))
        return NULL;
    Fold f;
    if (fold_open(&f, NULL, 0, NULL, table_o, n, index_o, "reindex") < 0)
        return NULL;
    Table t = f.t;
    Py_BEGIN_ALLOW_THREADS
    memset(t.index, 0xFF, (size_t)(t.mask + 1) * sizeof(uint32_t));
    for (Py_ssize_t j = 0; j < n; j++) {
        uint64_t parts[N_KEY];
        cols_key(&t.o, j, parts);
        /* keys are distinct: the first empty slot is the row's */
        Py_ssize_t slot = (Py_ssize_t)(key_hash(parts) & (uint64_t)t.mask);
        while (t.index[slot] != T_EMPTY)
            slot = (slot + 1) & t.mask;
        t.index[slot] = (uint32_t)j;
    }
    Py_END_ALLOW_THREADS
    fold_close(&f);
    Py_RETURN_NONE;
}

/* tap_signatures(buf, pos, cap, shi, slo, dhi, dlo, proto, sport, dport, sig)
 *
 * dedup.fast_ledger_numpy's signatures in one pass: for each row, the record at pos[i] (caplen
 * cap[i]) in buf, its addresses, protocol and ports (int64/uint64 columns), written to sig
 * (uint64). Bytes past the end of buf read as zero, as numpy's gathers do. The numpy code is
 * the reference: a ledger made here must merge with one made there (tests hold them equal).
 */
#define SIG_M1 0x9E3779B97F4A7C15ULL
#define SIG_M2 0xBF58476D1CE4E5B9ULL
#define SIG_HASHED 32

static inline uint64_t sig_mix(uint64_t h, uint64_t v) {
    h ^= v;
    h *= SIG_M1;
    h ^= h >> 31;
    return h * SIG_M2;
}

static PyObject *tap_signatures(PyObject *self, PyObject *args) {
    Py_buffer bb, pb, cb, b_shi, b_slo, b_dhi, b_dlo, b_proto, b_sp, b_dp, o_sig;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*y*y*w*", &bb, &pb, &cb, &b_shi, &b_slo, &b_dhi,
                          &b_dlo, &b_proto, &b_sp, &b_dp, &o_sig))
        return NULL;
    const unsigned char *b = (const unsigned char *)bb.buf;
    long long size = (long long)bb.len;
    const int64_t *pos = (const int64_t *)pb.buf, *cap = (const int64_t *)cb.buf,
                  *proto = (const int64_t *)b_proto.buf, *sport = (const int64_t *)b_sp.buf,
                  *dport = (const int64_t *)b_dp.buf;
    const uint64_t *shi = (const uint64_t *)b_shi.buf, *slo = (const uint64_t *)b_slo.buf,
                   *dhi = (const uint64_t *)b_dhi.buf, *dlo = (const uint64_t *)b_dlo.buf;
    uint64_t *sig = (uint64_t *)o_sig.buf;
    Py_ssize_t n = pb.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t all[] = {cb.len, b_shi.len, b_slo.len, b_dhi.len, b_dlo.len, b_proto.len,
                        b_sp.len, b_dp.len, o_sig.len};
    int ok = 1;
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        ok &= all[k] == pb.len;
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i++) {
            long long p = pos[i];
            unsigned char head[24] = {0};
            if (p >= 0 && p < size)
                memcpy(head, b + p, (size_t)(size - p < 24 ? size - p : 24));
            int tagged = be(head + 12, 2) == 0x8100;
            unsigned first = tagged ? head[18] : head[14];
            int v4 = (first >> 4) == 4;
            long long ihl = v4 ? (long long)(first & 15) * 4 : 40;
            long long l4 = p + (tagged ? 18 : 14) + ihl;
            uint64_t at4 = be(head + (tagged ? 22 : 18), 2);
            uint64_t ident = v4 ? at4 : 0;
            uint64_t length = v4 ? be(head + (tagged ? 20 : 16), 2) : at4;
            long long end = p + cap[i] < size ? p + cap[i] : size;
            long long avail = end - l4;
            avail = avail < 0 ? 0 : (avail > SIG_HASHED ? SIG_HASHED : avail);
            unsigned char seg[SIG_HASHED] = {0};
            if (avail > 0)
                memcpy(seg, b + l4, (size_t)avail);
            uint64_t h = 0;
            h = sig_mix(h, shi[i]);
            h = sig_mix(h, slo[i]);
            h = sig_mix(h, dhi[i]);
            h = sig_mix(h, dlo[i]);
            h = sig_mix(h, (uint64_t)proto[i]);
            h = sig_mix(h, (uint64_t)sport[i]);
            h = sig_mix(h, (uint64_t)dport[i]);
            h = sig_mix(h, ident);
            h = sig_mix(h, length);
            h = sig_mix(h, (uint64_t)avail);
            for (int k = 0; k < SIG_HASHED; k += 8) {
                uint64_t w;
                memcpy(&w, seg + k, 8); /* native order, as numpy's view of the bytes */
                h = sig_mix(h, w);
            }
            sig[i] = h;
        }
        Py_END_ALLOW_THREADS
    }
    Py_buffer *held[] = {&bb, &pb, &cb, &b_shi, &b_slo, &b_dhi, &b_dlo, &b_proto, &b_sp, &b_dp,
                         &o_sig};
    for (size_t k = 0; k < sizeof held / sizeof held[0]; k++)
        PyBuffer_Release(held[k]);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "tap_signatures: columns of different lengths");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"absorb_rows", absorb_rows, METH_VARARGS, "Fold decoded rows into a growing flow table."},
    {"absorb_columns", absorb_columns, METH_VARARGS, "Fold flow columns into a growing flow table."},
    {"reindex", reindex, METH_VARARGS, "Rebuild a growing flow table's index."},
    {"walk_pcap", walk_pcap, METH_VARARGS, "Record start offsets of a pcap chunk."},
    {"walk_epb", walk_epb, METH_VARARGS, "Offsets of consecutive pcapng EPBs."},
    {"fast_rows", fast_rows, METH_VARARGS, "Fields of the common-case packets of a batch."},
    {"tap_signatures", tap_signatures, METH_VARARGS, "Tap-copy signatures of fast-path rows."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_accel", NULL, -1, methods};

/* FLOW_COLUMNS, FLOW_LAYOUT: the flow-table layout the folds read and write, so that a stale
 * build of another layout is left unused (flowtable falls back to numpy) rather than misread. */
PyMODINIT_FUNC PyInit__accel(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && (PyModule_AddIntConstant(m, "FLOW_COLUMNS", N_OUT) < 0 ||
                      PyModule_AddStringConstant(m, "FLOW_LAYOUT", FLOW_LAYOUT) < 0)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
