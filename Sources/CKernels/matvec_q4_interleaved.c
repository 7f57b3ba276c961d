// Decode kernels for Q4_0 and Q4_1 weights interleaved four rows at a time with the scales split
// from the codes: per group of four rows and block i, [d0 d1 d2 d3 (m0 m1 m2 m3)] as half floats,
// then the 16 code bytes of rows 0, 1, 2, 3 (the same 72 or 80 bytes as four blocks). The scales of
// four rows are one load and one conversion, and rows 0-1 and 2-3 are one 32-byte load each whose
// low and high nibbles meet the block's first and second 16 activations in both 128-bit lanes:
// about half the instructions of the row-major four-row kernel (matvec_avx2.c), which reads four
// scales one by one and unpacks each row's nibbles on its own.
#include <immintrin.h>
#include <string.h>
#include "blocks.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))
// AVX-512 VNNI on 256-bit registers (VL) for two and four activation rows: one vpdpbusd per code
// vector instead of vpmaddubsw, vpaddw and vpmaddwd. The int32 sums are the same: the AVX2 path
// never saturates its int16 pairs.
#define VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")))

// Sum over the block of nibbles x activations for rows (0,1) or (2,3), as [r r r r | r' r' r' r'].
#define DOT_MADD(lo, hi) _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(lo, first), _mm256_maddubs_epi16(hi, second)), ones)
#define DOT_VNNI(lo, hi) _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), lo, first), hi, second)

// Bytes of one interleaved step (four blocks) and where its codes start.
static inline int64_t q4_step(int has_min) { return has_min ? 80 : 72; }
static inline int64_t q4_codes(int has_min) { return has_min ? 16 : 8; }

void aigc_interleave_q4(int type, const void *w, int64_t w_stride, int64_t rows, int64_t nb, void *out) {
    const int has_min = type == AIGC_TYPE_Q4_1;
    const int64_t block = has_min ? sizeof(block_q4_1) : sizeof(block_q4_0), step = q4_step(has_min);
    for (int64_t g = 0; g < rows / 4; g++)
        for (int64_t i = 0; i < nb; i++) {
            uint8_t *dst = (uint8_t *)out + (g * nb + i) * step;
            for (int r = 0; r < 4; r++) {
                const uint8_t *b = (const uint8_t *)w + (4 * g + r) * w_stride + i * block;
                memcpy(dst + 2 * r, b, 2);                                   // d
                if (has_min) memcpy(dst + 8 + 2 * r, b + 2, 2);              // m
                memcpy(dst + q4_codes(has_min) + 16 * r, b + (has_min ? 4 : 2), 16);
            }
        }
}

// Row `r` (0-3 within its group) block i of an interleaved group, rebuilt as an ordinary block.
void aigc_q4_block_from_interleaved(int type, const void *group, int64_t i, int r, void *block) {
    const int has_min = type == AIGC_TYPE_Q4_1;
    const uint8_t *src = (const uint8_t *)group + i * q4_step(has_min);
    uint8_t *b = block;
    memcpy(b, src + 2 * r, 2);
    if (has_min) memcpy(b + 2, src + 8 + 2 * r, 2);
    memcpy(b + (has_min ? 4 : 2), src + q4_codes(has_min) + 16 * r, 16);
}

// The four rows' scales of the step at `blk`, and what each row adds per unit of the activation
// block's sum: its minimum m (Q4_1), or -8 d for the codes' bias (Q4_0).
AVX2 static inline void q4_scales(int has_min, const uint8_t *blk, __m128 *d4, __m128 *offset) {
    if (has_min) {
        const __m256 dm = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk));
        *d4 = _mm256_castps256_ps128(dm);
        *offset = _mm256_extractf128_ps(dm, 1);
    } else {
        *d4 = _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)blk));
        *offset = _mm_mul_ps(*d4, _mm_set1_ps(-8.0f));
    }
}

// T activation rows (a_stride bytes apart) against the four rows of one group: out[4 t + r].
#define IL_Q4_LOOP(HAS_MIN, T, DOT)                                                                              \
    const uint8_t *base = (const uint8_t *)w;                                                               \
    const __m256i low4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);                               \
    (void)ones;                                                                                             \
    /* The folded sums come out as [r0 r0 r2 r2 | r1 r1 r3 r3]; the scales are spread the same way. */     \
    const __m256i spread = _mm256_setr_epi32(0, 0, 2, 2, 1, 1, 3, 3);                                       \
    __m256 acc[T];                                                                                          \
    __m128 offsets[T];                                                                                      \
    for (int t = 0; t < T; t++) { acc[t] = _mm256_setzero_ps(); offsets[t] = _mm_setzero_ps(); }            \
    for (int64_t i = 0; i < nb; i++) {                                                                      \
        const uint8_t *blk = base + i * (HAS_MIN ? 80 : 72);                                                \
        __m128 d4, offset;                                                                                  \
        q4_scales(HAS_MIN, blk, &d4, &offset);                                                              \
        const __m256 dspread = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(d4), spread);                \
        const uint8_t *qs = blk + (HAS_MIN ? 16 : 8);                                                       \
        const __m256i v01 = _mm256_loadu_si256((const __m256i *)qs);                                        \
        const __m256i v23 = _mm256_loadu_si256((const __m256i *)(qs + 32));                                 \
        const __m256i lo01 = _mm256_and_si256(v01, low4), hi01 = _mm256_and_si256(_mm256_srli_epi16(v01, 4), low4); \
        const __m256i lo23 = _mm256_and_si256(v23, low4), hi23 = _mm256_and_si256(_mm256_srli_epi16(v23, 4), low4); \
        for (int t = 0; t < T; t++) {                                                                       \
            const block_q8a *y = (const block_q8a *)((const uint8_t *)a + t * a_stride) + i;                \
            const __m256i first = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)y->qs));     \
            const __m256i second = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(y->qs + 16))); \
            /* At most 2 x 2 x 15 x 127 per int16 lane: no saturation. */                                  \
            const __m256i s01 = DOT(lo01, hi01), s23 = DOT(lo23, hi23);                                     \
            const __m256 sums = _mm256_cvtepi32_ps(_mm256_hadd_epi32(s01, s23));                            \
            acc[t] = _mm256_fmadd_ps(_mm256_mul_ps(dspread, _mm256_set1_ps(y->d)), sums, acc[t]);           \
            offsets[t] = _mm_fmadd_ps(offset, _mm_set1_ps(y->s), offsets[t]);                               \
        }                                                                                                   \
    }                                                                                                       \
    for (int t = 0; t < T; t++) {                                                                           \
        /* [r0 r0 r2 r2] + [r1 r1 r3 r3] pairwise -> [r0 r2 r1 r3] -> [r0 r1 r2 r3]. */                     \
        const __m128 pairs = _mm_hadd_ps(_mm256_castps256_ps128(acc[t]), _mm256_extractf128_ps(acc[t], 1)); \
        _mm_storeu_ps(out + 4 * t, _mm_add_ps(_mm_shuffle_ps(pairs, pairs, _MM_SHUFFLE(3, 1, 2, 0)), offsets[t])); \
    }

// Decode (one activation row) on 512-bit registers: the 64 code bytes of a step are one load whose
// 128-bit lanes are rows 0-3, so the dot products land per row (four int32 lanes each) and need no
// hadd; the four scales are spread over the lanes once per step. About 16 instructions per step
// against 24 for VNNI on 256-bit registers: tg128 rose 1.05x on one thread and 1.04x on two (paired
// runs, BENCHMARKS.md). Prefill keeps the 256-bit forms, for which the 512-bit ones measured 0.90x
// on one thread.
#define IL_Q4_ZMM_LOOP(HAS_MIN)                                                                              \
    const uint8_t *base = (const uint8_t *)w;                                                               \
    const __m512i low4 = _mm512_set1_epi8(0x0F);                                                            \
    const __m512i spread = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);               \
    __m512 acc = _mm512_setzero_ps();                                                                       \
    __m128 offsets = _mm_setzero_ps();                                                                      \
    for (int64_t i = 0; i < nb; i++) {                                                                      \
        const uint8_t *blk = base + i * (HAS_MIN ? 80 : 72);                                                \
        const block_q8a *y = (const block_q8a *)a + i;                                                      \
        __m128 d4, offset;                                                                                  \
        q4_scales(HAS_MIN, blk, &d4, &offset);                                                              \
        const __m512 dspread = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(d4));                   \
        const __m512i v = _mm512_loadu_si512((const void *)(blk + (HAS_MIN ? 16 : 8)));                    \
        const __m512i lo = _mm512_and_si512(v, low4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4); \
        const __m512i first = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)y->qs));             \
        const __m512i second = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(y->qs + 16)));      \
        const __m512i s = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, first), hi, second); \
        acc = _mm512_fmadd_ps(_mm512_mul_ps(dspread, _mm512_set1_ps(y->d)), _mm512_cvtepi32_ps(s), acc);     \
        offsets = _mm_fmadd_ps(offset, _mm_set1_ps(y->s), offsets);                                         \
    }                                                                                                       \
    const __m128 r0 = _mm512_extractf32x4_ps(acc, 0), r1 = _mm512_extractf32x4_ps(acc, 1);                  \
    const __m128 r2 = _mm512_extractf32x4_ps(acc, 2), r3 = _mm512_extractf32x4_ps(acc, 3);                  \
    _mm_storeu_ps(out, _mm_add_ps(_mm_hadd_ps(_mm_hadd_ps(r0, r1), _mm_hadd_ps(r2, r3)), offsets));

#define DEFINE_IL_Q4(NAME, HAS_MIN)                                                                         \
    AVX2 void aigc_il_rows4_##NAME##_avx2(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out) { IL_Q4_LOOP(HAS_MIN, 1, DOT_MADD) } \
    AVX2 void aigc_il_rows4x2_##NAME##_avx2(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out) { IL_Q4_LOOP(HAS_MIN, 2, DOT_MADD) } \
    AVX2 void aigc_il_rows4x4_##NAME##_avx2(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out) { IL_Q4_LOOP(HAS_MIN, 4, DOT_MADD) } \
    VNNI void aigc_il_rows4x2_##NAME##_vnni(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out) { IL_Q4_LOOP(HAS_MIN, 2, DOT_VNNI) } \
    VNNI void aigc_il_rows4x4_##NAME##_vnni(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out) { IL_Q4_LOOP(HAS_MIN, 4, DOT_VNNI) } \
    VNNI void aigc_il_rows4_##NAME##_zmm(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out) { (void)a_stride; IL_Q4_ZMM_LOOP(HAS_MIN) }

DEFINE_IL_Q4(q4_0, 0)
DEFINE_IL_Q4(q4_1, 1)
