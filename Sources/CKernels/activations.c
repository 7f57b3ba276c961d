// Row kernels built on exp: softmax, SwiGLU, tanh-GELU. The AVX2 path uses the Cephes expf
// polynomial (relative error about 2e-7 on [-87, 88]); the scalar path uses libm and is the twin the
// tests compare against.
#include <immintrin.h>
#include <math.h>
#include "blocks.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2 static inline __m256 exp256(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3365478515625f)), _mm256_set1_ps(88.3762626647949f));
    __m256 fx = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 p = _mm256_set1_ps(1.9875691500E-4f);
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.3981999507E-3f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(8.3334519073E-3f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(4.1665795894E-2f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.6666665459E-1f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(5.0000001201E-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    const __m256i n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(n));
}

AVX2 static inline float hmax256(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

AVX2 static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static float softmax_avx2(float *x, int64_t n) {
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
    float m = hmax256(vmax);
    for (; i < n; i++) m = fmaxf(m, x[i]);
    if (m == -INFINITY) return m;
    const __m256 vm = _mm256_set1_ps(m);
    __m256 vsum = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(x + i, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    float sum = hsum256(vsum);
    for (; i < n; i++) { x[i] = expf(x[i] - m); sum += x[i]; }
    const __m256 inv = _mm256_set1_ps(1.0f / sum);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
    for (; i < n; i++) x[i] *= 1.0f / sum;
    return m + logf(sum);
}

static float softmax_scalar(float *x, int64_t n) {
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++) m = fmaxf(m, x[i]);
    if (m == -INFINITY) return m;
    float sum = 0;
    for (int64_t i = 0; i < n; i++) { x[i] = expf(x[i] - m); sum += x[i]; }
    for (int64_t i = 0; i < n; i++) x[i] *= 1.0f / sum;
    return m + logf(sum);
}

float aigc_softmax_f32(float *x, int64_t n) {
    return aigc_simd_level() >= AIGC_SIMD_AVX2 ? softmax_avx2(x, n) : softmax_scalar(x, n);
}

AVX2 static void swiglu_avx2(float *gate, const float *up, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 sig = _mm256_div_ps(g, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), g))));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(sig, _mm256_loadu_ps(up + i)));
    }
    for (; i < n; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

void aigc_swiglu_f32(float *gate, const float *up, int64_t n) {
    if (aigc_simd_level() >= AIGC_SIMD_AVX2) { swiglu_avx2(gate, up, n); return; }
    for (int64_t i = 0; i < n; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

// gelu(x) = 0.5 x (1 + tanh(c (x + 0.044715 x^3))) = x * sigmoid(2 c (x + 0.044715 x^3)).
AVX2 static void gelu_tanh_avx2(float *x, int64_t n) {
    const __m256 c2 = _mm256_set1_ps(-2.0f * 0.7978845608028654f), k = _mm256_set1_ps(0.044715f), one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 inner = _mm256_mul_ps(c2, _mm256_fmadd_ps(_mm256_mul_ps(k, v), _mm256_mul_ps(v, v), v));
        _mm256_storeu_ps(x + i, _mm256_div_ps(v, _mm256_add_ps(one, exp256(inner))));
    }
    for (; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + tanhf(0.7978845608028654f * (x[i] + 0.044715f * x[i] * x[i] * x[i])));
}

void aigc_gelu_tanh_f32(float *x, int64_t n) {
    if (aigc_simd_level() >= AIGC_SIMD_AVX2) { gelu_tanh_avx2(x, n); return; }
    for (int64_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + tanhf(0.7978845608028654f * (x[i] + 0.044715f * x[i] * x[i] * x[i])));
}

// Image activations. sigmoid(x) = 1 / (1 + exp(-x)); silu(x) = x * sigmoid(x);
// tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|), which never overflows and keeps the
// absolute error near 1e-7 for small |x| (where the libm twin is exact).
AVX2 static void sigmoid_avx2(float *x, int64_t n, int times_x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), v))));
        _mm256_storeu_ps(x + i, times_x ? _mm256_mul_ps(v, s) : s);
    }
    for (; i < n; i++) {
        const float s = 1.0f / (1.0f + expf(-x[i]));
        x[i] = times_x ? x[i] * s : s;
    }
}

static void sigmoid_scalar(float *x, int64_t n, int times_x) {
    for (int64_t i = 0; i < n; i++) {
        const float s = 1.0f / (1.0f + expf(-x[i]));
        x[i] = times_x ? x[i] * s : s;
    }
}

void aigc_silu_f32(float *x, int64_t n) {
    if (aigc_simd_level() >= AIGC_SIMD_AVX2) sigmoid_avx2(x, n, 1); else sigmoid_scalar(x, n, 1);
}

void aigc_sigmoid_f32(float *x, int64_t n) {
    if (aigc_simd_level() >= AIGC_SIMD_AVX2) sigmoid_avx2(x, n, 0); else sigmoid_scalar(x, n, 0);
}

AVX2 static void tanh_avx2(float *x, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f), minus_two = _mm256_set1_ps(-2.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 e = exp256(_mm256_mul_ps(minus_two, _mm256_andnot_ps(sign, v)));
        const __m256 t = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
        _mm256_storeu_ps(x + i, _mm256_or_ps(t, _mm256_and_ps(sign, v)));
    }
    for (; i < n; i++) x[i] = tanhf(x[i]);
}

void aigc_tanh_f32(float *x, int64_t n) {
    if (aigc_simd_level() >= AIGC_SIMD_AVX2) { tanh_avx2(x, n); return; }
    for (int64_t i = 0; i < n; i++) x[i] = tanhf(x[i]);
}

// gelu(x) = 0.5 x (1 + erf(x / sqrt 2)) (PyTorch's exact GELU). With a = |x| / sqrt 2, erfc(a) comes
// from Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7): q = t (a1 + t (a2 + ...)) exp(-a^2),
// t = 1 / (1 + p a); then gelu(x) = x - x q / 2 for x >= 0 and x q / 2 below, so the negative side
// is computed as the small erfc it is rather than as 1 - erf. The scalar twin uses libm's erff.
AVX2 static inline __m256 gelu_erf256(__m256 v) {
    const __m256 a = _mm256_mul_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), v), _mm256_set1_ps(0.7071067811865476f));
    const __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), a, _mm256_set1_ps(1.0f)));
    __m256 p = _mm256_set1_ps(1.061405429f);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
    const __m256 q = _mm256_mul_ps(_mm256_mul_ps(p, t), exp256(_mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), a), a)));
    const __m256 r = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), q);
    return _mm256_blendv_ps(_mm256_sub_ps(v, r), r, v);  // the sign bit of v picks r
}

static inline float gelu_erf_scalar(float x) { return 0.5f * x * (1.0f + erff(x * 0.7071067811865476f)); }

AVX2 static void gelu_erf_avx2(float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu_erf256(_mm256_loadu_ps(x + i)));
    for (; i < n; i++) x[i] = gelu_erf_scalar(x[i]);
}

void aigc_gelu_erf_f32(float *x, int64_t n) {
    if (aigc_simd_level() >= AIGC_SIMD_AVX2) { gelu_erf_avx2(x, n); return; }
    for (int64_t i = 0; i < n; i++) x[i] = gelu_erf_scalar(x[i]);
}

AVX2 static void geglu_avx2(float *out, const float *hidden, const float *gate, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(hidden + i), gelu_erf256(_mm256_loadu_ps(gate + i))));
    }
    for (; i < n; i++) out[i] = hidden[i] * gelu_erf_scalar(gate[i]);
}

void aigc_geglu_f32(float *out, const float *hidden, const float *gate, int64_t n) {
    if (aigc_simd_level() >= AIGC_SIMD_AVX2) { geglu_avx2(out, hidden, gate, n); return; }
    for (int64_t i = 0; i < n; i++) out[i] = hidden[i] * gelu_erf_scalar(gate[i]);
}

// x[i] = exp(x[i] - max(x)); returns the sum. Softmax without its final division, for attention:
// the division moves to the output rows (head size values instead of one per key), saving a pass
// over the scores.
AVX2 static float exp_shifted_avx2(float *x, int64_t n) {
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
    float m = hmax256(vmax);
    for (; i < n; i++) m = fmaxf(m, x[i]);
    const __m256 vm = _mm256_set1_ps(m);
    __m256 vsum = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(x + i, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    float sum = hsum256(vsum);
    for (; i < n; i++) { x[i] = expf(x[i] - m); sum += x[i]; }
    return sum;
}

float aigc_exp_shifted_f32(float *x, int64_t n) {
    if (aigc_simd_level() >= AIGC_SIMD_AVX2) return exp_shifted_avx2(x, n);
    float m = -INFINITY, sum = 0;
    for (int64_t i = 0; i < n; i++) m = fmaxf(m, x[i]);
    for (int64_t i = 0; i < n; i++) { x[i] = expf(x[i] - m); sum += x[i]; }
    return sum;
}
