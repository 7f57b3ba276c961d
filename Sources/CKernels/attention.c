// Attention of one query vector over cached keys and values (a decode step of one head): scores,
// softmax and the weighted sum of values in one call, for cache rows of floats or of half floats
// (llama.cpp's default cache, and ours: half the bytes a decode step reads cold). The AVX2 path
// scores eight keys at a time, each key's products in its own register, and folds the eight
// registers into one vector of scores with a transposing reduction: one horizontal step per eight
// keys instead of one per key. The scalar path is its twin for the tests and for machines without
// AVX2.
#include <immintrin.h>
#include "blocks.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))

// Eight accumulators [a0 .. a7] -> [sum(a0), sum(a1), ..., sum(a7)].
AVX2 static inline __m256 fold8(const __m256 a[8]) {
    const __m256 s01 = _mm256_hadd_ps(a[0], a[1]), s23 = _mm256_hadd_ps(a[2], a[3]);
    const __m256 s45 = _mm256_hadd_ps(a[4], a[5]), s67 = _mm256_hadd_ps(a[6], a[7]);
    const __m256 s0123 = _mm256_hadd_ps(s01, s23), s4567 = _mm256_hadd_ps(s45, s67);
    // Lanes now hold [k0 k1 k2 k3 | k0 k1 k2 k3] partial sums (low and high halves of each key).
    const __m256 lo = _mm256_permute2f128_ps(s0123, s4567, 0x20), hi = _mm256_permute2f128_ps(s0123, s4567, 0x31);
    return _mm256_add_ps(lo, hi);
}

AVX2 static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Eight elements of a cache row as floats, and one element, for rows of floats and of halves.
AVX2 static inline __m256 load8_f32(const float *p) { return _mm256_loadu_ps(p); }
AVX2 static inline __m256 load8_f16(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
static inline float one_f32(float x) { return x; }
static inline float one_f16(uint16_t h) { return aigc_f16_to_f32(h); }

// out[c .. c + 8W) = sum over t of w[t] * values[t][c .. c + 8W), W registers of columns at a time.
#define WEIGHTED_COLUMNS(W, LOAD8)                                                                 \
    for (; c + 8 * (W) <= dim; c += 8 * (W)) {                                                     \
        __m256 acc[W];                                                                             \
        for (int j = 0; j < (W); j++) acc[j] = _mm256_setzero_ps();                                \
        for (int64_t t = 0; t < n; t++) {                                                          \
            const __m256 wt = _mm256_broadcast_ss(w + t);                                          \
            for (int j = 0; j < (W); j++) acc[j] = _mm256_fmadd_ps(wt, LOAD8(values + t * stride + c + 8 * j), acc[j]); \
        }                                                                                          \
        for (int j = 0; j < (W); j++) _mm256_storeu_ps(out + c + 8 * j, acc[j]);                   \
    }

// The kernels of one element type T: scores, weighted sum, their scalar twin and the entry point.
#define DEFINE_ATTEND(NAME, T)                                                                                   \
AVX2 static void scores_##NAME(float *scores, const float *q, const T *keys, int64_t stride, int64_t n, int64_t dim, float scale) { \
    const __m256 vscale = _mm256_set1_ps(scale);                                                                 \
    int64_t t = 0;                                                                                               \
    for (; t + 8 <= n; t += 8) {                                                                                 \
        __m256 acc[8];                                                                                           \
        for (int j = 0; j < 8; j++) acc[j] = _mm256_setzero_ps();                                                \
        for (int64_t d = 0; d < dim; d += 8) {                                                                   \
            const __m256 qd = _mm256_loadu_ps(q + d);                                                            \
            for (int j = 0; j < 8; j++) acc[j] = _mm256_fmadd_ps(qd, load8_##NAME(keys + (t + j) * stride + d), acc[j]); \
        }                                                                                                        \
        _mm256_storeu_ps(scores + t, _mm256_mul_ps(fold8(acc), vscale));                                         \
    }                                                                                                            \
    for (; t < n; t++) {                                                                                         \
        __m256 acc = _mm256_setzero_ps();                                                                        \
        for (int64_t d = 0; d < dim; d += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), load8_##NAME(keys + t * stride + d), acc); \
        scores[t] = hsum8(acc) * scale;                                                                          \
    }                                                                                                            \
}                                                                                                                \
AVX2 static void weighted_##NAME(float *out, const float *w, const T *values, int64_t stride, int64_t n, int64_t dim) { \
    int64_t c = 0;                                                                                               \
    WEIGHTED_COLUMNS(8, load8_##NAME)                                                                            \
    WEIGHTED_COLUMNS(4, load8_##NAME)                                                                            \
    WEIGHTED_COLUMNS(1, load8_##NAME)                                                                            \
}                                                                                                                \
static void attend_scalar_##NAME(const float *q, const T *keys, const T *values, int64_t stride, int64_t n, int64_t dim, \
                                 float scale, float *scores, float *out) {                                       \
    for (int64_t t = 0; t < n; t++) {                                                                            \
        float sum = 0.0f;                                                                                        \
        for (int64_t d = 0; d < dim; d++) sum += q[d] * one_##NAME(keys[t * stride + d]);                        \
        scores[t] = sum * scale;                                                                                 \
    }                                                                                                            \
    aigc_softmax_f32(scores, n);                                                                                 \
    for (int64_t d = 0; d < dim; d++) {                                                                          \
        float sum = 0.0f;                                                                                        \
        for (int64_t t = 0; t < n; t++) sum += scores[t] * one_##NAME(values[t * stride + d]);                   \
        out[d] = sum;                                                                                            \
    }                                                                                                            \
}                                                                                                                \
void aigc_attend_##NAME(const float *q, const T *keys, const T *values, int64_t stride, int64_t n, int64_t dim, float scale, \
                        float *scores, float *out) {                                                             \
    if (n <= 0) {                                                                                                \
        for (int64_t d = 0; d < dim; d++) out[d] = 0.0f;                                                         \
        return;                                                                                                  \
    }                                                                                                            \
    if (aigc_simd_level() < AIGC_SIMD_AVX2 || dim % 8 != 0) {                                                    \
        attend_scalar_##NAME(q, keys, values, stride, n, dim, scale, scores, out);                               \
        return;                                                                                                  \
    }                                                                                                            \
    scores_##NAME(scores, q, keys, stride, n, dim, scale);                                                       \
    aigc_softmax_f32(scores, n);                                                                                 \
    weighted_##NAME(out, scores, values, stride, n, dim);                                                        \
}

DEFINE_ATTEND(f32, float)
DEFINE_ATTEND(f16, uint16_t)
