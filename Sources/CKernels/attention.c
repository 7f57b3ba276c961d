// Attention of one query vector over cached keys and values (a decode step of one head): scores,
// softmax and the weighted sum of values in one call. The AVX2 path scores eight keys at a time, each
// key's products in its own register, and folds the eight registers into one vector of scores with
// a transposing reduction: one horizontal step per eight keys instead of one per key (the Swift SIMD
// version reduced every key on its own, with a strictly ordered sum). The scalar path is its twin for
// the tests and for machines without AVX2.
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

AVX2 static void scores_avx2(float *scores, const float *q, const float *keys, int64_t stride, int64_t n, int64_t dim, float scale) {
    const __m256 vscale = _mm256_set1_ps(scale);
    int64_t t = 0;
    for (; t + 8 <= n; t += 8) {
        __m256 acc[8];
        for (int j = 0; j < 8; j++) acc[j] = _mm256_setzero_ps();
        for (int64_t d = 0; d < dim; d += 8) {
            const __m256 qd = _mm256_loadu_ps(q + d);
            for (int j = 0; j < 8; j++) acc[j] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(keys + (t + j) * stride + d), acc[j]);
        }
        _mm256_storeu_ps(scores + t, _mm256_mul_ps(fold8(acc), vscale));
    }
    for (; t < n; t++) {
        __m256 acc = _mm256_setzero_ps();
        for (int64_t d = 0; d < dim; d += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(keys + t * stride + d), acc);
        scores[t] = hsum8(acc) * scale;
    }
}

// out[c .. c + 8W) = sum over t of w[t] * values[t][c .. c + 8W), W registers of columns at a time.
#define WEIGHTED_COLUMNS(W)                                                                        \
    for (; c + 8 * (W) <= dim; c += 8 * (W)) {                                                     \
        __m256 acc[W];                                                                             \
        for (int j = 0; j < (W); j++) acc[j] = _mm256_setzero_ps();                                \
        for (int64_t t = 0; t < n; t++) {                                                          \
            const __m256 wt = _mm256_broadcast_ss(w + t);                                          \
            const float *row = values + t * stride + c;                                            \
            for (int j = 0; j < (W); j++) acc[j] = _mm256_fmadd_ps(wt, _mm256_loadu_ps(row + 8 * j), acc[j]); \
        }                                                                                          \
        for (int j = 0; j < (W); j++) _mm256_storeu_ps(out + c + 8 * j, acc[j]);                   \
    }

AVX2 static void weighted_avx2(float *out, const float *w, const float *values, int64_t stride, int64_t n, int64_t dim) {
    int64_t c = 0;
    WEIGHTED_COLUMNS(8)
    WEIGHTED_COLUMNS(4)
    WEIGHTED_COLUMNS(1)
}

static void attend_scalar(const float *q, const float *keys, const float *values, int64_t stride, int64_t n, int64_t dim,
                          float scale, float *scores, float *out) {
    for (int64_t t = 0; t < n; t++) {
        float sum = 0.0f;
        for (int64_t d = 0; d < dim; d++) sum += q[d] * keys[t * stride + d];
        scores[t] = sum * scale;
    }
    aigc_softmax_f32(scores, n);
    for (int64_t d = 0; d < dim; d++) {
        float sum = 0.0f;
        for (int64_t t = 0; t < n; t++) sum += scores[t] * values[t * stride + d];
        out[d] = sum;
    }
}

void aigc_attend_f32(const float *q, const float *keys, const float *values, int64_t stride, int64_t n, int64_t dim, float scale,
                     float *scores, float *out) {
    if (n <= 0) {
        for (int64_t d = 0; d < dim; d++) out[d] = 0.0f;
        return;
    }
    if (aigc_simd_level() < AIGC_SIMD_AVX2 || dim % 8 != 0) {
        attend_scalar(q, keys, values, stride, n, dim, scale, scores, out);
        return;
    }
    scores_avx2(scores, q, keys, stride, n, dim, scale);
    aigc_softmax_f32(scores, n);
    weighted_avx2(out, scores, values, stride, n, dim);
}

