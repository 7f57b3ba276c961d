// Type table, run-time CPU feature detection and the choice between scalar and SIMD kernels.
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>
#include "blocks.h"

int64_t aigc_type_block_elements(int type) {
    switch (type) {
    case AIGC_TYPE_F32: case AIGC_TYPE_F16: case AIGC_TYPE_BF16:
    case AIGC_TYPE_I8: case AIGC_TYPE_I16: case AIGC_TYPE_I32: case AIGC_TYPE_I64: case AIGC_TYPE_F64:
        return 1;
    case AIGC_TYPE_Q4_0: case AIGC_TYPE_Q4_1: case AIGC_TYPE_Q5_0: case AIGC_TYPE_Q5_1:
    case AIGC_TYPE_Q8_0: case AIGC_TYPE_Q8_1:
        return QK32;
    case AIGC_TYPE_Q2_K: case AIGC_TYPE_Q3_K: case AIGC_TYPE_Q4_K: case AIGC_TYPE_Q5_K:
    case AIGC_TYPE_Q6_K: case AIGC_TYPE_Q8_K:
        return QK_K;
    default:
        return 0;
    }
}

int64_t aigc_type_block_bytes(int type) {
    switch (type) {
    case AIGC_TYPE_F32: return 4;
    case AIGC_TYPE_F16: case AIGC_TYPE_BF16: return 2;
    case AIGC_TYPE_I8: return 1;
    case AIGC_TYPE_I16: return 2;
    case AIGC_TYPE_I32: return 4;
    case AIGC_TYPE_I64: case AIGC_TYPE_F64: return 8;
    case AIGC_TYPE_Q4_0: return sizeof(block_q4_0);
    case AIGC_TYPE_Q4_1: return sizeof(block_q4_1);
    case AIGC_TYPE_Q5_0: return sizeof(block_q5_0);
    case AIGC_TYPE_Q5_1: return sizeof(block_q5_1);
    case AIGC_TYPE_Q8_0: return sizeof(block_q8_0);
    case AIGC_TYPE_Q8_1: return sizeof(block_q8_1);
    case AIGC_TYPE_Q2_K: return sizeof(block_q2_K);
    case AIGC_TYPE_Q3_K: return sizeof(block_q3_K);
    case AIGC_TYPE_Q4_K: return sizeof(block_q4_K);
    case AIGC_TYPE_Q5_K: return sizeof(block_q5_K);
    case AIGC_TYPE_Q6_K: return sizeof(block_q6_K);
    case AIGC_TYPE_Q8_K: return sizeof(block_q8_K);
    default: return 0;
    }
}

// ---- CPU features ---------------------------------------------------------------------------

int aigc_cpu_simd_level(void) {
    __builtin_cpu_init();
    const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    if (!avx2) return AIGC_SIMD_SCALAR;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        return AIGC_SIMD_AVX512;
    return AIGC_SIMD_AVX2;
}

// AVX-512 VNNI (vpdpbusd), used on 256-bit registers by the int8 kernels at the AVX512 level.
int aigc_cpu_has_vnni(void) {
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = aigc_cpu_simd_level() >= AIGC_SIMD_AVX512 && __builtin_cpu_supports("avx512vnni");
    }
    return known;
}

// Per thread, so that a test comparing the portable path with the fast one on its own thread does
// not switch the kernels of work running beside it (tests run concurrently). AIGC_SIMD applies to
// every thread, as each starts from it.
static _Thread_local int current_level = -1;

static int initial_level(void) {
    int level = aigc_cpu_simd_level();
    const char *env = getenv("AIGC_SIMD");
    if (env) {
        int cap = level;
        if (!strcmp(env, "scalar")) cap = AIGC_SIMD_SCALAR;
        else if (!strcmp(env, "avx2")) cap = AIGC_SIMD_AVX2;
        else if (!strcmp(env, "avx512")) cap = AIGC_SIMD_AVX512;
        if (cap < level) level = cap;
    }
    return level;
}

int aigc_simd_level(void) {
    if (current_level < 0) current_level = initial_level();
    return current_level;
}

int aigc_set_simd_level(int level) {
    const int best = aigc_cpu_simd_level();
    if (level > best) level = best;
    if (level < 0) level = 0;
    current_level = level;
    return level;
}

// ---- dot product dispatch -------------------------------------------------------------------

typedef float (*dot_fn)(const void *, const void *, int64_t);

static dot_fn dot_for(int type, int level) {
    const int fast = level >= AIGC_SIMD_AVX2;
    switch (type) {
    case AIGC_TYPE_F32: return fast ? aigc_dot_f32_avx2 : aigc_dot_f32_scalar;
    case AIGC_TYPE_F16: return fast ? aigc_dot_f16_avx2 : aigc_dot_f16_scalar;
    case AIGC_TYPE_BF16: return fast ? aigc_dot_bf16_avx2 : aigc_dot_bf16_scalar;
    case AIGC_TYPE_Q4_0: return fast ? aigc_dot_q4_0_avx2 : aigc_dot_q4_0_scalar;
    case AIGC_TYPE_Q4_1: return fast ? aigc_dot_q4_1_avx2 : aigc_dot_q4_1_scalar;
    case AIGC_TYPE_Q5_0: return fast ? aigc_dot_q5_0_avx2 : aigc_dot_q5_0_scalar;
    case AIGC_TYPE_Q5_1: return fast ? aigc_dot_q5_1_avx2 : aigc_dot_q5_1_scalar;
    case AIGC_TYPE_Q8_0: return fast ? aigc_dot_q8_0_avx2 : aigc_dot_q8_0_scalar;
    case AIGC_TYPE_Q2_K: return aigc_dot_q2_K_scalar;
    case AIGC_TYPE_Q3_K: return aigc_dot_q3_K_scalar;
    case AIGC_TYPE_Q4_K: return fast ? aigc_dot_q4_K_avx2 : aigc_dot_q4_K_scalar;
    case AIGC_TYPE_Q5_K: return fast ? aigc_dot_q5_K_avx2 : aigc_dot_q5_K_scalar;
    case AIGC_TYPE_Q6_K: return fast ? aigc_dot_q6_K_avx2 : aigc_dot_q6_K_scalar;
    default: return NULL;
    }
}

static aigc_rows4_fn rows4_for(int type, int level) {
    // AVX2 serves the AVX512 level too: a VNNI form of the Q8_0 kernel (vpdpbusd for vpmaddubsw +
    // vpmaddwd) measured no faster on Zen 4 (31.8-35.5 against 31.8-32.9 GB/s from L2). Only the
    // split-scale Q4_0/Q4_1 kernels (matvec_q4_interleaved.c), which have more to save, use VNNI.
    if (level >= AIGC_SIMD_AVX2) {
        switch (type) {
        case AIGC_TYPE_Q4_0: return aigc_rows4_q4_0_avx2;
        case AIGC_TYPE_Q4_1: return aigc_rows4_q4_1_avx2;
        case AIGC_TYPE_Q5_0: return aigc_rows4_q5_0_avx2;
        case AIGC_TYPE_Q5_1: return aigc_rows4_q5_1_avx2;
        case AIGC_TYPE_Q8_0: return aigc_rows4_q8_0_avx2;
        case AIGC_TYPE_F16: return aigc_rows4_f16_avx2;
        case AIGC_TYPE_BF16: return aigc_rows4_bf16_avx2;
        default: break;
        }
    }
    return NULL;
}

// Four weight rows times 4 (or 2) activation rows, or NULL.
static aigc_rows4xt_fn rows4xt_for(int type, int level, int t) {
    if (level < AIGC_SIMD_AVX2) return NULL;
    switch (type) {
    case AIGC_TYPE_Q4_0: return t == 4 ? aigc_rows4x4_q4_0_avx2 : aigc_rows4x2_q4_0_avx2;
    case AIGC_TYPE_Q4_1: return t == 4 ? aigc_rows4x4_q4_1_avx2 : aigc_rows4x2_q4_1_avx2;
    case AIGC_TYPE_Q5_0: return t == 4 ? aigc_rows4x4_q5_0_avx2 : aigc_rows4x2_q5_0_avx2;
    case AIGC_TYPE_Q5_1: return t == 4 ? aigc_rows4x4_q5_1_avx2 : aigc_rows4x2_q5_1_avx2;
    case AIGC_TYPE_Q8_0: return t == 4 ? aigc_rows4x4_q8_0_avx2 : aigc_rows4x2_q8_0_avx2;
    default: return NULL;
    }
}

int aigc_activation_kind(int weight_type) {
    switch (weight_type) {
    case AIGC_TYPE_Q4_0: case AIGC_TYPE_Q4_1: case AIGC_TYPE_Q5_0: case AIGC_TYPE_Q5_1: case AIGC_TYPE_Q8_0:
        return AIGC_ACT_Q8A;
    case AIGC_TYPE_Q2_K: case AIGC_TYPE_Q3_K: case AIGC_TYPE_Q4_K: case AIGC_TYPE_Q5_K: case AIGC_TYPE_Q6_K:
        return AIGC_ACT_Q8K;
    default:
        return AIGC_ACT_F32;
    }
}

int64_t aigc_activation_row_bytes(int weight_type, int64_t n) {
    switch (aigc_activation_kind(weight_type)) {
    case AIGC_ACT_Q8A: return (n / QK32) * (int64_t)sizeof(block_q8a);
    case AIGC_ACT_Q8K: return (n / QK_K) * (int64_t)sizeof(block_q8_K);
    default: return n * 4;
    }
}

void aigc_prepare_activation(int weight_type, const float *x, void *out, int64_t n) {
    switch (aigc_activation_kind(weight_type)) {
    case AIGC_ACT_Q8A:
        if (aigc_simd_level() >= AIGC_SIMD_AVX2) aigc_quantize_q8a_avx2(x, out, n); else aigc_quantize_q8a_scalar(x, out, n);
        break;
    case AIGC_ACT_Q8K:
        if (aigc_simd_level() >= AIGC_SIMD_AVX2) aigc_quantize_q8_K_avx2(x, out, n); else aigc_quantize_q8_K_scalar(x, out, n);
        break;
    default: memcpy(out, x, (size_t)n * 4); break;
    }
}

float aigc_vec_dot(int weight_type, const void *w, const void *a, int64_t n) {
    dot_fn fn = dot_for(weight_type, aigc_simd_level());
    return fn ? fn(w, a, n) : 0.0f;
}

float aigc_dot_f32(const float *a, const float *b, int64_t n) {
    return aigc_simd_level() >= AIGC_SIMD_AVX2 ? aigc_dot_f32_avx2(a, b, n) : aigc_dot_f32_scalar(a, b, n);
}

// out[4 t' + k] (t' < count activation rows, k < 4 weight rows) into y at rows t.., columns r..r+3.
static inline void store_rows4(float *y, int64_t y_stride, int64_t r, int64_t t, const float *out, int count) {
    for (int k = 0; k < 4 * count; k++) y[(t + k / 4) * y_stride + r + k % 4] = out[k];
}

static int64_t interleave_unit_bytes(int type);
static int64_t interleave_unit_elements(int type);

// Rows r0..r1 of a matrix whose block i of row r is at w + r * stride + i * step, with the four-row
// kernels where they exist (rows4 non-NULL; then r1 - r0 is a multiple of 4 for interleaved weights).
static void matmul_rows_with(int weight_type, int level, const char *wb, int64_t stride, int64_t step, int64_t n,
                             const char *ab, int64_t a_stride, int64_t m, float *y, int64_t y_stride, int64_t r0, int64_t r1,
                             int64_t group_bytes) {
    dot_fn fn = dot_for(weight_type, level);
    aigc_rows4_fn rows4 = rows4_for(weight_type, level);
    aigc_rows4xt_fn rows4x4 = rows4xt_for(weight_type, level, 4), rows4x2 = rows4xt_for(weight_type, level, 2);
    const int64_t nb = n / aigc_type_block_elements(weight_type);
    int64_t r = r0;
    // Rows outermost: the weight rows stay in L1 while every activation row passes over them,
    // four (or two) activation rows at a time where a kernel shares the unpacked weights.
    if (rows4) {
        float out[16];
        for (; r + 4 <= r1; r += 4) {
            const void *rows = group_bytes ? wb + (r / 4) * group_bytes : wb + r * stride;
            int64_t t = 0;
            for (; rows4x4 && t + 4 <= m; t += 4) {
                rows4x4(rows, stride, step, ab + t * a_stride, a_stride, nb, out);
                store_rows4(y, y_stride, r, t, out, 4);
            }
            for (; rows4x2 && t + 2 <= m; t += 2) {
                rows4x2(rows, stride, step, ab + t * a_stride, a_stride, nb, out);
                store_rows4(y, y_stride, r, t, out, 2);
            }
            for (; t < m; t++) {
                rows4(rows, stride, step, ab + t * a_stride, nb, out);
                store_rows4(y, y_stride, r, t, out, 1);
            }
        }
    }
    if (group_bytes) {
        // Interleaved weights without four-row kernels (the portable level): one dot per unit.
        const int64_t elements = interleave_unit_elements(weight_type), act_unit = aigc_activation_row_bytes(weight_type, elements);
        for (; r < r1; r++) {
            const char *group = wb + (r / 4) * group_bytes + (r % 4) * stride;
            for (int64_t t = 0; t < m; t++) {
                float sum = 0.0f;
                for (int64_t u = 0; u < n / elements; u++) sum += fn(group + u * step, ab + t * a_stride + u * act_unit, elements);
                y[t * y_stride + r] = sum;
            }
        }
        return;
    }
    for (; r < r1; r++) {
        const void *row = wb + r * stride;
        for (int64_t t = 0; t < m; t++) y[t * y_stride + r] = fn(row, ab + t * a_stride, n);
    }
}

void aigc_matmul_rows(int weight_type, const void *w, int64_t w_stride, int64_t n,
                      const void *a, int64_t a_stride, int64_t m,
                      float *y, int64_t y_stride, int64_t r0, int64_t r1) {
    const int level = aigc_simd_level();
    if (!dot_for(weight_type, level)) return;
    matmul_rows_with(weight_type, level, w, w_stride, interleave_unit_bytes(weight_type), n, a, a_stride, m, y, y_stride, r0, r1, 0);
}

// ---- weights interleaved four rows at a time ----------------------------------------------------

// Bytes of the unit the four-row kernels step by: a block, or 8 half-precision elements.
static int64_t interleave_unit_bytes(int type) {
    return aigc_type_block_elements(type) == 1 ? 8 * aigc_type_block_bytes(type) : aigc_type_block_bytes(type);
}

static int64_t interleave_unit_elements(int type) {
    return aigc_type_block_elements(type) == 1 ? 8 : aigc_type_block_elements(type);
}

int aigc_can_interleave_rows4(int type, int64_t rows, int64_t n) {
    if (rows % 4 != 0 || n % interleave_unit_elements(type) != 0) return 0;
    return rows4_for(type, aigc_simd_level()) != NULL; // the types with four-row kernels
}

static int split_q4(int type) { return type == AIGC_TYPE_Q4_0 || type == AIGC_TYPE_Q4_1; }

void aigc_interleave_rows4(int type, const void *w, int64_t w_stride, int64_t rows, int64_t n, void *out) {
    if (split_q4(type)) { aigc_interleave_q4(type, w, w_stride, rows, n / QK32, out); return; }
    const int64_t unit = interleave_unit_bytes(type), units = n / interleave_unit_elements(type);
    // Copies of a size known at compile time are inlined moves; a libc call per 20-byte block made
    // loading the default model 80 ms slower.
#define INTERLEAVE_WITH(SIZE)                                                                                  \
    for (int64_t g = 0; g < rows / 4; g++) {                                                                   \
        const char *src = (const char *)w + 4 * g * w_stride;                                                  \
        char *dst = (char *)out + g * units * 4 * (SIZE);                                                      \
        for (int64_t u = 0; u < units; u++, dst += 4 * (SIZE))                                                 \
            for (int r = 0; r < 4; r++) memcpy(dst + r * (SIZE), src + r * w_stride + u * (SIZE), (SIZE));   \
    }
    switch (unit) {
    case 16: INTERLEAVE_WITH(16) break;
    case 18: INTERLEAVE_WITH(18) break;
    case 20: INTERLEAVE_WITH(20) break;
    case 22: INTERLEAVE_WITH(22) break;
    case 24: INTERLEAVE_WITH(24) break;
    case 34: INTERLEAVE_WITH(34) break;
    default: INTERLEAVE_WITH((size_t)unit) break;
    }
#undef INTERLEAVE_WITH
}

void aigc_matmul_rows_interleaved(int weight_type, const void *w, int64_t n, const void *a, int64_t a_stride, int64_t m,
                                  float *y, int64_t y_stride, int64_t r0, int64_t r1) {
    const int level = aigc_simd_level();
    dot_fn fn = dot_for(weight_type, level);
    if (!fn) return;
    const int64_t unit = interleave_unit_bytes(weight_type), units = n / interleave_unit_elements(weight_type);
    if (split_q4(weight_type)) {
        const char *wb = w, *ab = a;
        const int64_t group_bytes = 4 * unit * units, act_block = sizeof(block_q8a);
        if (level >= AIGC_SIMD_AVX2) {
            const int q41 = weight_type == AIGC_TYPE_Q4_1, vnni = level >= AIGC_SIMD_AVX512 && aigc_cpu_has_vnni();
            aigc_il_q4_fn x1 = vnni ? (q41 ? aigc_il_rows4_q4_1_zmm : aigc_il_rows4_q4_0_zmm)
                                    : (q41 ? aigc_il_rows4_q4_1_avx2 : aigc_il_rows4_q4_0_avx2);
            aigc_il_q4_fn x2 = vnni ? (q41 ? aigc_il_rows4x2_q4_1_vnni : aigc_il_rows4x2_q4_0_vnni)
                                    : (q41 ? aigc_il_rows4x2_q4_1_avx2 : aigc_il_rows4x2_q4_0_avx2);
            aigc_il_q4_fn x4 = vnni ? (q41 ? aigc_il_rows4x4_q4_1_vnni : aigc_il_rows4x4_q4_0_vnni)
                                    : (q41 ? aigc_il_rows4x4_q4_1_avx2 : aigc_il_rows4x4_q4_0_avx2);
            float out[16];
            // Prefill: activation rows in tiles of about 16 KiB, which stay in L1 while the rows'
            // weights pass over them, instead of every activation row streaming from L2 per group.
            const int64_t tile = a_stride >= 4096 ? 4 : 16384 / a_stride / 4 * 4;
            for (int64_t t0 = 0; t0 < m; t0 += tile) {
                const int64_t t1 = t0 + tile < m ? t0 + tile : m;
                for (int64_t r = r0; r + 4 <= r1; r += 4) {
                    const char *group = wb + (r / 4) * group_bytes;
                    int64_t t = t0;
                    for (; t + 4 <= t1; t += 4) {
                        x4(group, ab + t * a_stride, a_stride, units, out);
                        store_rows4(y, y_stride, r, t, out, 4);
                    }
                    for (; t + 2 <= t1; t += 2) {
                        x2(group, ab + t * a_stride, a_stride, units, out);
                        store_rows4(y, y_stride, r, t, out, 2);
                    }
                    for (; t < t1; t++) {
                        x1(group, ab + t * a_stride, a_stride, units, out);
                        store_rows4(y, y_stride, r, t, out, 1);
                    }
                }
            }
            return;
        }
        // Portable: each block rebuilt in the ordinary layout for the scalar dot product.
        for (int64_t r = r0; r < r1; r++) {
            const char *group = wb + (r / 4) * group_bytes;
            for (int64_t t = 0; t < m; t++) {
                float sum = 0.0f;
                for (int64_t i = 0; i < units; i++) {
                    uint8_t block[sizeof(block_q4_1)];
                    aigc_q4_block_from_interleaved(weight_type, group, i, (int)(r % 4), block);
                    sum += fn(block, ab + t * a_stride + i * act_block, QK32);
                }
                y[t * y_stride + r] = sum;
            }
        }
        return;
    }
    matmul_rows_with(weight_type, level, w, unit, 4 * unit, n, a, a_stride, m, y, y_stride, r0, r1, 4 * unit * units);
}

int aigc_dequantize_row_interleaved(int type, const void *w, int64_t n, int64_t row, float *out) {
    const int64_t unit = interleave_unit_bytes(type), elements = interleave_unit_elements(type), units = n / elements;
    if (split_q4(type)) {
        const char *group = (const char *)w + (row / 4) * 4 * unit * units;
        for (int64_t i = 0; i < units; i++) {
            uint8_t block[sizeof(block_q4_1)];
            aigc_q4_block_from_interleaved(type, group, i, (int)(row % 4), block);
            const int status = aigc_dequantize_row(type, block, out + i * elements, elements);
            if (status != 0) return status;
        }
        return 0;
    }
    const char *group = (const char *)w + (row / 4) * 4 * unit * units + (row % 4) * unit;
    for (int64_t u = 0; u < units; u++) {
        const int status = aigc_dequantize_row(type, group + u * 4 * unit, out + u * elements, elements);
        if (status != 0) return status;
    }
    return 0;
}

// Touches every cache line of a range with a prefetch, so that its misses overlap whatever the thread
// does next instead of stalling a later loop one line at a time.
void aigc_prefetch_bytes(const void *p, int64_t bytes) {
    for (int64_t o = 0; o < bytes; o += 64) _mm_prefetch((const char *)p + o, _MM_HINT_T0);
}

void aigc_stream_triad(float *a, const float *b, const float *c, float scalar, int64_t n) {
    for (int64_t i = 0; i < n; i++) a[i] = b[i] + scalar * c[i];
}
