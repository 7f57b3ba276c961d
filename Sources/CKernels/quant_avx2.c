// AVX2/FMA/F16C dot products on quantized blocks. Every weight code is made unsigned and multiplied
// with signed int8 activations by vpmaddubsw (no int16 overflow is possible: |code| <= 63 and
// |activation| <= 127, or 128 x 127 for the sign trick on Q8_0); offsets and minima are folded in
// afterwards with the activation block sums. Same arithmetic as quant_scalar.c.
#include <immintrin.h>
#include <string.h>
#include "blocks.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2 static inline float hsum_ps(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

AVX2 static inline int hsum_epi32(__m256i v) {
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
    return _mm_cvtsi128_si32(h);
}

// 16 bytes of packed nibbles -> 32 codes: low nibbles in bytes 0..15, high nibbles in 16..31.
AVX2 static inline __m256i unpack_nibbles(const uint8_t *qs) {
    const __m128i tmp = _mm_loadu_si128((const __m128i *)qs);
    const __m256i bytes = _mm256_set_m128i(_mm_srli_epi16(tmp, 4), tmp);
    return _mm256_and_si256(bytes, _mm256_set1_epi8(0x0F));
}

// 32 bits -> 32 bytes, 0xFF where the bit is set.
AVX2 static inline __m256i bytes_from_bits(const uint8_t *p) {
    uint32_t x32;
    memcpy(&x32, p, 4);
    const __m256i shuffle = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x32), shuffle);
    bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
}

// Unsigned bytes times signed bytes, summed in pairs then in quads: 8 int32 lanes.
AVX2 static inline __m256i dot_u8_i8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

AVX2 static inline float f16(uint16_t h) { return _cvtsh_ss(h); }

AVX2 float aigc_dot_q4_0_avx2(const void *w, const void *a, int64_t n) {
    const block_q4_0 *x = w;
    const block_q8a *y = a;
    __m256 acc = _mm256_setzero_ps();
    float offset = 0.0f;
    for (int64_t i = 0; i < n / 32; i++) {
        const float dw = f16(x[i].d);
        const __m256i p = dot_u8_i8(unpack_nibbles(x[i].qs), _mm256_loadu_si256((const __m256i *)y[i].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dw * y[i].d), _mm256_cvtepi32_ps(p), acc);
        offset += dw * y[i].s;
    }
    return hsum_ps(acc) - 8.0f * offset;
}

AVX2 float aigc_dot_q4_1_avx2(const void *w, const void *a, int64_t n) {
    const block_q4_1 *x = w;
    const block_q8a *y = a;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float mins = 0.0f;
    const int64_t nb = n / 32;
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        const __m256i p0 = dot_u8_i8(unpack_nibbles(x[i].qs), _mm256_loadu_si256((const __m256i *)y[i].qs));
        const __m256i p1 = dot_u8_i8(unpack_nibbles(x[i + 1].qs), _mm256_loadu_si256((const __m256i *)y[i + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(f16(x[i].d) * y[i].d), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(f16(x[i + 1].d) * y[i + 1].d), _mm256_cvtepi32_ps(p1), acc1);
        mins += f16(x[i].m) * y[i].s + f16(x[i + 1].m) * y[i + 1].s;
    }
    for (; i < nb; i++) {
        const __m256i p = dot_u8_i8(unpack_nibbles(x[i].qs), _mm256_loadu_si256((const __m256i *)y[i].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(f16(x[i].d) * y[i].d), _mm256_cvtepi32_ps(p), acc0);
        mins += f16(x[i].m) * y[i].s;
    }
    return hsum_ps(_mm256_add_ps(acc0, acc1)) + mins;
}

AVX2 static inline __m256i codes_q5(const uint8_t *qs, const uint8_t *qh) {
    const __m256i high = _mm256_and_si256(bytes_from_bits(qh), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(unpack_nibbles(qs), high);
}

AVX2 float aigc_dot_q5_0_avx2(const void *w, const void *a, int64_t n) {
    const block_q5_0 *x = w;
    const block_q8a *y = a;
    __m256 acc = _mm256_setzero_ps();
    float offset = 0.0f;
    for (int64_t i = 0; i < n / 32; i++) {
        const float dw = f16(x[i].d);
        const __m256i p = dot_u8_i8(codes_q5(x[i].qs, x[i].qh), _mm256_loadu_si256((const __m256i *)y[i].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dw * y[i].d), _mm256_cvtepi32_ps(p), acc);
        offset += dw * y[i].s;
    }
    return hsum_ps(acc) - 16.0f * offset;
}

AVX2 float aigc_dot_q5_1_avx2(const void *w, const void *a, int64_t n) {
    const block_q5_1 *x = w;
    const block_q8a *y = a;
    __m256 acc = _mm256_setzero_ps();
    float mins = 0.0f;
    for (int64_t i = 0; i < n / 32; i++) {
        const __m256i p = dot_u8_i8(codes_q5(x[i].qs, x[i].qh), _mm256_loadu_si256((const __m256i *)y[i].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16(x[i].d) * y[i].d), _mm256_cvtepi32_ps(p), acc);
        mins += f16(x[i].m) * y[i].s;
    }
    return hsum_ps(acc) + mins;
}

AVX2 float aigc_dot_q8_0_avx2(const void *w, const void *a, int64_t n) {
    const block_q8_0 *x = w;
    const block_q8a *y = a;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const int64_t nb = n / 32;
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)x[i].qs);
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)x[i + 1].qs);
        const __m256i a0 = _mm256_loadu_si256((const __m256i *)y[i].qs);
        const __m256i a1 = _mm256_loadu_si256((const __m256i *)y[i + 1].qs);
        const __m256i p0 = dot_u8_i8(_mm256_sign_epi8(w0, w0), _mm256_sign_epi8(a0, w0));
        const __m256i p1 = dot_u8_i8(_mm256_sign_epi8(w1, w1), _mm256_sign_epi8(a1, w1));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(f16(x[i].d) * y[i].d), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(f16(x[i + 1].d) * y[i + 1].d), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; i < nb; i++) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)x[i].qs);
        const __m256i a0 = _mm256_loadu_si256((const __m256i *)y[i].qs);
        const __m256i p0 = dot_u8_i8(_mm256_sign_epi8(w0, w0), _mm256_sign_epi8(a0, w0));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(f16(x[i].d) * y[i].d), _mm256_cvtepi32_ps(p0), acc0);
    }
    return hsum_ps(_mm256_add_ps(acc0, acc1));
}

// The 12 scale bytes of a Q4_K/Q5_K block (6-bit scales and mins, see scale_min_k4) as two 8-byte
// runs: sc[0..7] the scales, mn[0..7] the mins, unpacked with word masks rather than per sub-block.
static inline void k4_scales_mins(const uint8_t *scales, uint32_t sc[2], uint32_t mn[2]) {
    uint32_t u[3];
    memcpy(u, scales, 12);
    sc[0] = u[0] & 0x3f3f3f3f;
    mn[0] = u[1] & 0x3f3f3f3f;
    sc[1] = (u[2] & 0x0f0f0f0f) | (((u[0] >> 6) & 0x03030303) << 4);
    mn[1] = ((u[2] >> 4) & 0x0f0f0f0f) | (((u[1] >> 6) & 0x03030303) << 4);
}

// Sub-block k's 16-bit scale in every lane of a 256-bit vector holding the eight scales twice.
AVX2 static inline __m256i k4_scale(__m256i scales16, int k) {
    const __m256i pick = _mm256_set1_epi16((short)(0x0100 + 0x0202 * k));
    return _mm256_shuffle_epi8(scales16, pick);
}

// sum over sub-blocks j of min_j * (bsums[2j] + bsums[2j+1]), as four int32 lanes.
AVX2 static inline __m128i k4_mins_dot(const uint32_t mn[2], const int16_t *bsums) {
    const __m256i b = _mm256_loadu_si256((const __m256i *)bsums);
    const __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
    const __m128i mins = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)mn[1], (int)mn[0]));
    return _mm_madd_epi16(mins, pairs);
}

AVX2 float aigc_dot_q4_K_avx2(const void *w, const void *a, int64_t n) {
    const block_q4_K *x = w;
    const block_q8_K *y = a;
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_m = _mm_setzero_ps();
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint32_t sc[2], mn[2];
        k4_scales_mins(x[i].scales, sc, mn);
        acc_m = _mm_fmadd_ps(_mm_set1_ps(y[i].d * f16(x[i].dmin)), _mm_cvtepi32_ps(k4_mins_dot(mn, y[i].bsums)), acc_m);
        const __m256i scales16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)sc[1], (int)sc[0])));
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < 4; j++) {
            const __m256i q4 = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * j));
            const __m256i lo = _mm256_and_si256(q4, low4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), low4);
            const __m256i a0 = _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * j));
            const __m256i a1 = _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * j + 32));
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, a0), k4_scale(scales16, 2 * j));
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, a1), k4_scale(scales16, 2 * j + 1));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * f16(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
    }
    __m128 m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
    m = _mm_add_ss(m, _mm_movehdup_ps(m));
    return hsum_ps(acc) - _mm_cvtss_f32(m);
}

AVX2 float aigc_dot_q5_K_avx2(const void *w, const void *a, int64_t n) {
    const block_q5_K *x = w;
    const block_q8_K *y = a;
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_m = _mm_setzero_ps();
    const __m256i low4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint32_t sc[2], mn[2];
        k4_scales_mins(x[i].scales, sc, mn);
        acc_m = _mm_fmadd_ps(_mm_set1_ps(y[i].d * f16(x[i].dmin)), _mm_cvtepi32_ps(k4_mins_dot(mn, y[i].bsums)), acc_m);
        const __m256i scales16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)sc[1], (int)sc[0])));
        const __m256i hbits = _mm256_loadu_si256((const __m256i *)x[i].qh);
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < 4; j++) {
            const __m256i q4 = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * j));
            const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j), one), 4);
            const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j + 1), one), 4);
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(q4, low4), h0);
            const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4, 4), low4), h1);
            const __m256i a0 = _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * j));
            const __m256i a1 = _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * j + 32));
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, a0), k4_scale(scales16, 2 * j));
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, a1), k4_scale(scales16, 2 * j + 1));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * f16(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
    }
    __m128 m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
    m = _mm_add_ss(m, _mm_movehdup_ps(m));
    return hsum_ps(acc) - _mm_cvtss_f32(m);
}

AVX2 float aigc_dot_q6_K_avx2(const void *w, const void *a, int64_t n) {
    const block_q6_K *x = w;
    const block_q8_K *y = a;
    __m256 acc = _mm256_setzero_ps();
    float offsets = 0.0f;
    const __m256i low4 = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(3);
    for (int64_t i = 0; i < n / QK_K; i++) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales));
        const int offset = hsum_epi32(_mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)y[i].bsums)));
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 2; c++) {
            const uint8_t *ql = x[i].ql + 64 * c, *qhp = x[i].qh + 32 * c;
            const int8_t *ay = y[i].qs + 128 * c;
            // Scales 8c..8c+7 in both 128-bit lanes, so one byte shuffle puts 2k in the low lane, 2k+1 in the high.
            const __m256i half = c ? _mm256_permute4x64_epi64(sc16, 0xEE) : _mm256_permute4x64_epi64(sc16, 0x44);
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)qhp);
            const __m256i q1 = _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, two), 4));
            const __m256i q2 = _mm256_or_si256(_mm256_and_si256(l1, low4),
                                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), two), 4));
            const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), two), 4));
            const __m256i q4 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), two), 4));
            const __m256i quarters[4] = {q1, q2, q3, q4};
            for (int k = 0; k < 4; k++) {
                const __m256i act = _mm256_loadu_si256((const __m256i *)(ay + 32 * k));
                const __m256i scale = _mm256_shuffle_epi8(half, _mm256_set_m128i(_mm_set1_epi16((short)(0x0100 + 0x0202 * (2 * k + 1))),
                                                                                   _mm_set1_epi16((short)(0x0100 + 0x0202 * (2 * k)))));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(quarters[k], act), scale));
            }
        }
        const float d = f16(x[i].d) * y[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
        offsets += d * 32.0f * (float)offset;
    }
    return hsum_ps(acc) - offsets;
}

AVX2 float aigc_dot_f16_avx2(const void *w, const void *a, int64_t n) {
    const uint16_t *x = w;
    const float *y = a;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))), _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i + 8))), _mm256_loadu_ps(y + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i + 16))), _mm256_loadu_ps(y + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i + 24))), _mm256_loadu_ps(y + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8)
        acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))), _mm256_loadu_ps(y + i), acc0);
    float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; i++) sum += _cvtsh_ss(x[i]) * y[i];
    return sum;
}

AVX2 float aigc_dot_bf16_avx2(const void *w, const void *a, int64_t n) {
    const uint16_t *x = w;
    const float *y = a;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 w0 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(x + i))), 16));
        const __m256 w1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(x + i + 8))), 16));
        acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(y + i + 8), acc1);
    }
    float sum = hsum_ps(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++) {
        const uint32_t bits = (uint32_t)x[i] << 16;
        float f;
        memcpy(&f, &bits, 4);
        sum += f * y[i];
    }
    return sum;
}

AVX2 float aigc_dot_f32_avx2(const void *w, const void *a, int64_t n) {
    const float *x = w, *y = a;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
    float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; i++) sum += x[i] * y[i];
    return sum;
}

// ---- activation quantizers: the same codes, scales and sums as quant_scalar.c, bit for bit ------
// (|x| max, d = amax / 127, id = 1 / d, codes rounded to nearest even by vcvtps2dq as nearbyintf
// does in the default rounding mode; the int sums are exact in any order).

// Eight int32 lanes -> eight int8 codes at out (values are within [-127, 127]).
AVX2 static inline void store_codes8(int8_t *out, __m256i q) {
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    _mm_storel_epi64((__m128i *)out, _mm_packs_epi16(w, w));
}

AVX2 static inline float block_amax(const float *x, int n) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < n; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

AVX2 void aigc_quantize_q8a_avx2(const float *x, void *out, int64_t n) {
    block_q8a *y = out;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        const float d = block_amax(x, 32) / 127, id = d ? 1.0f / d : 0.0f;
        const __m256 scale = _mm256_set1_ps(id);
        __m256i sum = _mm256_setzero_si256();
        for (int j = 0; j < 32; j += 8) {
            const __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j), scale));
            sum = _mm256_add_epi32(sum, q);
            store_codes8(y[i].qs + j, q);
        }
        y[i].d = d;
        y[i].s = d * (float)hsum_epi32(sum);
    }
}

AVX2 void aigc_quantize_q8_K_avx2(const float *x, void *out, int64_t n) {
    block_q8_K *y = out;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        const float d = block_amax(x, QK_K) / 127, id = d ? 1.0f / d : 0.0f;
        const __m256 scale = _mm256_set1_ps(id);
        for (int j = 0; j < QK_K; j += 16) {
            const __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j), scale));
            const __m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8), scale));
            store_codes8(y[i].qs + j, q0);
            store_codes8(y[i].qs + j + 8, q1);
            y[i].bsums[j / 16] = (int16_t)hsum_epi32(_mm256_add_epi32(q0, q1));
        }
        y[i].d = d;
    }
}
