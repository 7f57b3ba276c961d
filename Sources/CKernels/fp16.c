// IEEE half and bfloat16 conversions: a portable bit-exact path and an F16C path for whole rows.
// The portable float->half rounding is the classic branch-free formulation (round to nearest even,
// NaN preserved), as used by ggml's GGML_COMPUTE_FP32_TO_FP16 fallback.
#include <math.h>
#include <string.h>
#include <immintrin.h>
#include "blocks.h"

static inline float bits_to_f32(uint32_t w) { float f; memcpy(&f, &w, 4); return f; }
static inline uint32_t f32_to_bits(float f) { uint32_t w; memcpy(&w, &f, 4); return w; }

float aigc_f16_to_f32(uint16_t h) {
    const uint32_t w = (uint32_t)h << 16;
    const uint32_t sign = w & 0x80000000u;
    const uint32_t two_w = w + w;
    const uint32_t exp_offset = 0xE0u << 23;
    const float normalized = bits_to_f32((two_w >> 4) + exp_offset) * 0x1.0p-112f;
    const uint32_t magic_mask = 126u << 23;
    const float denormalized = bits_to_f32((two_w >> 17) | magic_mask) - 0.5f;
    const uint32_t denormalized_cutoff = 1u << 27;
    const uint32_t result = sign | (two_w < denormalized_cutoff ? f32_to_bits(denormalized) : f32_to_bits(normalized));
    return bits_to_f32(result);
}

uint16_t aigc_f32_to_f16(float f) {
    float base = (fabsf(f) * 0x1.0p+112f) * 0x1.0p-110f;
    const uint32_t w = f32_to_bits(f);
    const uint32_t shl1_w = w + w;
    const uint32_t sign = w & 0x80000000u;
    uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = bits_to_f32((bias >> 1) + 0x07800000u) + base;
    const uint32_t bits = f32_to_bits(base);
    const uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
    const uint32_t mantissa_bits = bits & 0x00000FFFu;
    const uint32_t nonsign = exp_bits + mantissa_bits;
    return (uint16_t)((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

__attribute__((target("avx2,fma,f16c")))
void aigc_f16_to_f32_row_avx2(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(src + i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    for (; i < n; i++) dst[i] = _cvtsh_ss(src[i]);
}

void aigc_f16_to_f32_row(const uint16_t *src, float *dst, int64_t n) {
    if (aigc_simd_level() >= AIGC_SIMD_AVX2) {
        aigc_f16_to_f32_row_avx2(src, dst, n);
        return;
    }
    for (int64_t i = 0; i < n; i++) dst[i] = aigc_f16_to_f32(src[i]);
}

void aigc_f32_to_f16_row(const float *src, uint16_t *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = aigc_f32_to_f16(src[i]);
}

void aigc_bf16_to_f32_row(const uint16_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = bits_to_f32((uint32_t)src[i] << 16);
}

uint16_t aigc_f32_to_bf16(float f) {
    uint32_t w = f32_to_bits(f);
    if ((w & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((w >> 16) | 64); // quiet NaN
    return (uint16_t)((w + (0x7fffu + ((w >> 16) & 1))) >> 16);               // round to nearest even
}

// Key/value cache rows: half floats saturated at the largest finite half (65504), since a key or
// value beyond it would otherwise become infinite and turn its attention row into NaN. fmaxf and
// fminf clamp as the vector min/max do (NaN goes to -65504 on both paths).
#define HALF_MAX 65504.0f
static inline uint16_t half_saturated(float x) { return aigc_f32_to_f16(fminf(fmaxf(x, -HALF_MAX), HALF_MAX)); }

__attribute__((target("avx2,fma,f16c")))
static void store_half_avx2(const float *src, uint16_t *dst, int64_t n) {
    const __m256 hi = _mm256_set1_ps(HALF_MAX), lo = _mm256_set1_ps(-HALF_MAX);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(src + i), lo), hi);
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    for (; i < n; i++) dst[i] = half_saturated(src[i]);
}

void aigc_store_half_saturated(const float *src, uint16_t *dst, int64_t n) {
    if (aigc_simd_level() >= AIGC_SIMD_AVX2) {
        store_half_avx2(src, dst, n);
        return;
    }
    for (int64_t i = 0; i < n; i++) dst[i] = half_saturated(src[i]);
}
