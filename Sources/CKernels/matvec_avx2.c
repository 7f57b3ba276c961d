// Four-row matrix-vector kernels (AVX2/FMA/F16C) for the 32-element block formats: four weight rows
// share each activation block. Per step the four rows' scales are converted together (one vcvtph2ps),
// the four int32 dot vectors are folded with horizontal adds into one [r0 r1 r2 r3 | r0 r1 r2 r3]
// vector, and one FMA accumulates all four rows — no per-row broadcasts. Measured on Zen 4, Q4_1 from
// L2: 17 GB/s of weights against 6.6 GB/s for the one-row kernel (see BENCHMARKS.md).
#include <immintrin.h>
#include <string.h>
#include "blocks.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))

static inline uint32_t load32(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }

// Four interleaved rows are four short streams that jump after each row: too irregular for the
// hardware prefetcher. Each block step therefore prefetches its share of the row group two groups
// ahead (prefetching past the end of the matrix is harmless).
#define PREFETCH_GROUPS 2
static inline int64_t prefetch_step(int64_t stride, int64_t nb) { return (4 * stride + nb - 1) / nb; }
static inline void prefetch_share(const uint8_t *base, int64_t stride, int64_t step, int64_t i) {
    const uint8_t *p = base + PREFETCH_GROUPS * 4 * stride + i * step;
    for (int64_t j = 0; j < step; j += 64) __builtin_prefetch(p + j, 0, 3);
    __builtin_prefetch(p + step - 1, 0, 3);
}

// Every kernel reads block i of row r at base + r * stride + i * step: step is the block size for
// rows stored one after another, and four block sizes (stride one) for weights interleaved four
// rows at a time (aigc_interleave_rows4), which are a single stream.
// Block formats interleaved need no software prefetch (measured no faster with it, 1-8 KiB ahead):
// the hardware prefetcher follows the one stream. Half-precision rows still gain from fetching
// 2 KiB ahead on two threads (F16 decode 95-105 against 89-97 tokens/s).
#define INTERLEAVED_AHEAD 2048
static inline void prefetch_blocks(const uint8_t *base, int64_t stride, int64_t step, int64_t pstep, int64_t i, int64_t unit) {
    if (step == unit) prefetch_share(base, stride, pstep, i);
}

// 16 bytes of packed nibbles -> 32 codes (low nibbles first), loaded once into both halves.
AVX2 static inline __m256i nibbles(const uint8_t *qs) {
    const __m256i b = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    return _mm256_and_si256(_mm256_blend_epi32(b, _mm256_srli_epi16(b, 4), 0xF0), _mm256_set1_epi8(0x0F));
}

// 32 bits -> 32 bytes, 0xFF where the bit is set.
AVX2 static inline __m256i bit_bytes(uint32_t x32) {
    const __m256i shuffle = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x32), shuffle);
    bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
}

AVX2 static inline __m256i codes_q5(const uint8_t *qs, const uint8_t *qh) {
    return _mm256_or_si256(nibbles(qs), _mm256_and_si256(bit_bytes(load32(qh)), _mm256_set1_epi8(0x10)));
}

// The first four halves at byte 0 of four blocks, and the four at byte 2, as floats.
AVX2 static inline void halves4(const uint8_t *b0, const uint8_t *b1, const uint8_t *b2, const uint8_t *b3, __m128 *first, __m128 *second) {
    const __m256 both = _mm256_cvtph_ps(_mm_setr_epi32((int)load32(b0), (int)load32(b1), (int)load32(b2), (int)load32(b3)));
    const __m256 split = _mm256_permutevar8x32_ps(both, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
    *first = _mm256_castps256_ps128(split);
    *second = _mm256_extractf128_ps(split, 1);
}

// Folds four rows' 8-lane int32 sums into [r0 r1 r2 r3 | r0 r1 r2 r3] floats.
AVX2 static inline __m256 fold4(__m256i p0, __m256i p1, __m256i p2, __m256i p3) {
    return _mm256_cvtepi32_ps(_mm256_hadd_epi32(_mm256_hadd_epi32(p0, p1), _mm256_hadd_epi32(p2, p3)));
}

AVX2 static inline __m256i dot_u8_i8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

AVX2 static inline void finish4(__m256 acc, __m128 offsets, float *out) {
    _mm_storeu_ps(out, _mm_add_ps(_mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1)), offsets));
}

// One step of the 4-row loop for types whose codes are unsigned and whose scale is at byte 0.
// `OFFSET` turns the second half-float (Q4_1/Q5_1 min) or the scale (Q4_0/Q5_0) into the additive term.
#define ROWS4_LOOP(BLOCK, CODES, OFFSET_EXPR)                                                              \
    const uint8_t *base = (const uint8_t *)w;                                                              \
    const block_q8a *y = a;                                                                                \
    __m256 acc = _mm256_setzero_ps();                                                                      \
    __m128 offsets = _mm_setzero_ps();                                                                     \
    const int64_t pstep = prefetch_step(stride, nb);                                                       \
    for (int64_t i = 0; i < nb; i++) {                                                                     \
        prefetch_blocks(base, stride, step, pstep, i, sizeof(BLOCK));                                      \
        const uint8_t *bi = base + i * step;                                                               \
        const BLOCK *b0 = (const BLOCK *)(bi), *b1 = (const BLOCK *)(bi + stride);                         \
        const BLOCK *b2 = (const BLOCK *)(bi + 2 * stride), *b3 = (const BLOCK *)(bi + 3 * stride);        \
        const __m256i act = _mm256_loadu_si256((const __m256i *)y[i].qs);                                  \
        __m128 d, second;                                                                                  \
        halves4((const uint8_t *)b0, (const uint8_t *)b1, (const uint8_t *)b2, (const uint8_t *)b3, &d, &second); \
        (void)second;                                                                                      \
        offsets = _mm_fmadd_ps(OFFSET_EXPR, _mm_set1_ps(y[i].s), offsets);                                 \
        const __m256 sums = fold4(dot_u8_i8(CODES(b0), act), dot_u8_i8(CODES(b1), act),                   \
                                  dot_u8_i8(CODES(b2), act), dot_u8_i8(CODES(b3), act));                   \
        const __m128 dd = _mm_mul_ps(d, _mm_set1_ps(y[i].d));                                              \
        acc = _mm256_fmadd_ps(_mm256_set_m128(dd, dd), sums, acc);                                         \
    }                                                                                                      \
    finish4(acc, offsets, out);

#define CODES_Q4(b) nibbles((b)->qs)
#define CODES_Q5(b) codes_q5((b)->qs, (b)->qh)

AVX2 void aigc_rows4_q4_0_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t nb, float *out) {
    ROWS4_LOOP(block_q4_0, CODES_Q4, _mm_mul_ps(d, _mm_set1_ps(-8.0f)))
}

AVX2 void aigc_rows4_q4_1_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t nb, float *out) {
    ROWS4_LOOP(block_q4_1, CODES_Q4, second)
}

AVX2 void aigc_rows4_q5_0_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t nb, float *out) {
    ROWS4_LOOP(block_q5_0, CODES_Q5, _mm_mul_ps(d, _mm_set1_ps(-16.0f)))
}

AVX2 void aigc_rows4_q5_1_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t nb, float *out) {
    ROWS4_LOOP(block_q5_1, CODES_Q5, second)
}

// Q8_0: signed codes, so each row gets |w| and the activation with w's signs (vpsignb).
AVX2 void aigc_rows4_q8_0_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t nb, float *out) {
    const uint8_t *base = (const uint8_t *)w;
    const block_q8a *y = a;
    __m256 acc = _mm256_setzero_ps();
    const int64_t pstep = prefetch_step(stride, nb);
    for (int64_t i = 0; i < nb; i++) {
        prefetch_blocks(base, stride, step, pstep, i, sizeof(block_q8_0));
        const block_q8_0 *b[4];
        for (int r = 0; r < 4; r++) b[r] = (const block_q8_0 *)(base + r * stride + i * step);
        const __m256i act = _mm256_loadu_si256((const __m256i *)y[i].qs);
        __m256i p[4];
        for (int r = 0; r < 4; r++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)b[r]->qs);
            p[r] = dot_u8_i8(_mm256_sign_epi8(q, q), _mm256_sign_epi8(act, q));
        }
        __m128 d, unused;
        halves4((const uint8_t *)b[0], (const uint8_t *)b[1], (const uint8_t *)b[2], (const uint8_t *)b[3], &d, &unused);
        const __m128 dd = _mm_mul_ps(d, _mm_set1_ps(y[i].d));
        acc = _mm256_fmadd_ps(_mm256_set_m128(dd, dd), fold4(p[0], p[1], p[2], p[3]), acc);
    }
    finish4(acc, _mm_setzero_ps(), out);
}

// ---- several activation rows: four weight rows x T activation rows per pass ------------------
// The codes of each weight block are unpacked once and used for every activation row, so decoding
// T tokens at once (batched requests, beams, speculative drafts) costs well under T single steps.

#define ROWS4_T_LOOP(BLOCK, CODES, OFFSET_EXPR, T)                                                         \
    const uint8_t *base = (const uint8_t *)w;                                                              \
    __m256 acc[T];                                                                                         \
    __m128 offsets[T];                                                                                     \
    for (int t = 0; t < T; t++) { acc[t] = _mm256_setzero_ps(); offsets[t] = _mm_setzero_ps(); }           \
    const int64_t pstep = prefetch_step(stride, nb);                                                       \
    for (int64_t i = 0; i < nb; i++) {                                                                     \
        prefetch_blocks(base, stride, step, pstep, i, sizeof(BLOCK));                                      \
        const uint8_t *bi = base + i * step;                                                               \
        const BLOCK *b0 = (const BLOCK *)(bi), *b1 = (const BLOCK *)(bi + stride);                         \
        const BLOCK *b2 = (const BLOCK *)(bi + 2 * stride), *b3 = (const BLOCK *)(bi + 3 * stride);        \
        const __m256i c0 = CODES(b0), c1 = CODES(b1), c2 = CODES(b2), c3 = CODES(b3);                      \
        __m128 d, second;                                                                                  \
        halves4((const uint8_t *)b0, (const uint8_t *)b1, (const uint8_t *)b2, (const uint8_t *)b3, &d, &second); \
        (void)second;                                                                                      \
        const __m128 offset = OFFSET_EXPR;                                                                 \
        for (int t = 0; t < T; t++) {                                                                      \
            const block_q8a *y = (const block_q8a *)((const uint8_t *)a + t * a_stride) + i;               \
            const __m256i act = _mm256_loadu_si256((const __m256i *)y->qs);                                \
            offsets[t] = _mm_fmadd_ps(offset, _mm_set1_ps(y->s), offsets[t]);                              \
            const __m256 sums = fold4(dot_u8_i8(c0, act), dot_u8_i8(c1, act), dot_u8_i8(c2, act), dot_u8_i8(c3, act)); \
            const __m128 dd = _mm_mul_ps(d, _mm_set1_ps(y->d));                                            \
            acc[t] = _mm256_fmadd_ps(_mm256_set_m128(dd, dd), sums, acc[t]);                               \
        }                                                                                                  \
    }                                                                                                      \
    for (int t = 0; t < T; t++) finish4(acc[t], offsets[t], out + 4 * t);

#define DEFINE_ROWS4_T(NAME, BLOCK, CODES, OFFSET_EXPR)                                                    \
    AVX2 void aigc_rows4x4_##NAME##_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t a_stride, int64_t nb, float *out) { \
        ROWS4_T_LOOP(BLOCK, CODES, OFFSET_EXPR, 4)                                                         \
    }                                                                                                      \
    AVX2 void aigc_rows4x2_##NAME##_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t a_stride, int64_t nb, float *out) { \
        ROWS4_T_LOOP(BLOCK, CODES, OFFSET_EXPR, 2)                                                         \
    }

DEFINE_ROWS4_T(q4_0, block_q4_0, CODES_Q4, _mm_mul_ps(d, _mm_set1_ps(-8.0f)))
DEFINE_ROWS4_T(q4_1, block_q4_1, CODES_Q4, second)
DEFINE_ROWS4_T(q5_0, block_q5_0, CODES_Q5, _mm_mul_ps(d, _mm_set1_ps(-16.0f)))
DEFINE_ROWS4_T(q5_1, block_q5_1, CODES_Q5, second)

// Q8_0 with T activation rows: |w| once per row, the signs applied to each activation.
#define ROWS4_T_Q8_0(T)                                                                                    \
    const uint8_t *base = (const uint8_t *)w;                                                              \
    __m256 acc[T];                                                                                         \
    for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();                                              \
    const int64_t pstep = prefetch_step(stride, nb);                                                       \
    for (int64_t i = 0; i < nb; i++) {                                                                     \
        prefetch_blocks(base, stride, step, pstep, i, sizeof(block_q8_0));                                 \
        const block_q8_0 *b[4];                                                                            \
        __m256i q[4], magnitude[4];                                                                        \
        for (int r = 0; r < 4; r++) {                                                                      \
            b[r] = (const block_q8_0 *)(base + r * stride + i * step);                                     \
            q[r] = _mm256_loadu_si256((const __m256i *)b[r]->qs);                                          \
            magnitude[r] = _mm256_sign_epi8(q[r], q[r]);                                                   \
        }                                                                                                  \
        __m128 d, unused;                                                                                  \
        halves4((const uint8_t *)b[0], (const uint8_t *)b[1], (const uint8_t *)b[2], (const uint8_t *)b[3], &d, &unused); \
        for (int t = 0; t < T; t++) {                                                                      \
            const block_q8a *y = (const block_q8a *)((const uint8_t *)a + t * a_stride) + i;               \
            const __m256i act = _mm256_loadu_si256((const __m256i *)y->qs);                                \
            const __m256 sums = fold4(dot_u8_i8(magnitude[0], _mm256_sign_epi8(act, q[0])),                \
                                      dot_u8_i8(magnitude[1], _mm256_sign_epi8(act, q[1])),                \
                                      dot_u8_i8(magnitude[2], _mm256_sign_epi8(act, q[2])),                \
                                      dot_u8_i8(magnitude[3], _mm256_sign_epi8(act, q[3])));               \
            const __m128 dd = _mm_mul_ps(d, _mm_set1_ps(y->d));                                            \
            acc[t] = _mm256_fmadd_ps(_mm256_set_m128(dd, dd), sums, acc[t]);                               \
        }                                                                                                  \
    }                                                                                                      \
    for (int t = 0; t < T; t++) finish4(acc[t], _mm_setzero_ps(), out + 4 * t);

AVX2 void aigc_rows4x4_q8_0_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t a_stride, int64_t nb, float *out) {
    ROWS4_T_Q8_0(4)
}

AVX2 void aigc_rows4x2_q8_0_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t a_stride, int64_t nb, float *out) {
    ROWS4_T_Q8_0(2)
}

// ---- half-precision weights: four rows per pass, each activation vector loaded once ---------------

AVX2 static inline __m256 load_f16x8(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
AVX2 static inline __m256 load_bf16x8(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

#define ROWS4_HALF(LOAD8, SCALAR)                                                                          \
    const uint8_t *base = (const uint8_t *)w;                                                              \
    const float *x = a;                                                                                    \
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps(); \
    int64_t i = 0;                                                                                         \
    for (; i + 8 <= n; i += 8) {                                                                           \
        /* 16 bytes of each of the 4 rows per step: prefetch that share of the group 2 groups ahead, */     \
        /* or, interleaved, the 64 bytes of this step 2 KiB ahead. */                                      \
        if (step != 16) {                                                                                  \
            __builtin_prefetch(base + (i / 8) * step + INTERLEAVED_AHEAD, 0, 3);                           \
        } else if ((i & 31) == 0) {                                                                        \
            __builtin_prefetch(base + PREFETCH_GROUPS * 4 * stride + i * 8, 0, 3);                         \
            __builtin_prefetch(base + PREFETCH_GROUPS * 4 * stride + i * 8 + 64, 0, 3);                    \
            __builtin_prefetch(base + PREFETCH_GROUPS * 4 * stride + i * 8 + 128, 0, 3);                   \
            __builtin_prefetch(base + PREFETCH_GROUPS * 4 * stride + i * 8 + 192, 0, 3);                   \
        }                                                                                                  \
        const uint16_t *u = (const uint16_t *)(base + (i / 8) * step);                                     \
        const __m256 v = _mm256_loadu_ps(x + i);                                                           \
        a0 = _mm256_fmadd_ps(LOAD8(u), v, a0);                                                             \
        a1 = _mm256_fmadd_ps(LOAD8((const uint16_t *)((const uint8_t *)u + stride)), v, a1);               \
        a2 = _mm256_fmadd_ps(LOAD8((const uint16_t *)((const uint8_t *)u + 2 * stride)), v, a2);           \
        a3 = _mm256_fmadd_ps(LOAD8((const uint16_t *)((const uint8_t *)u + 3 * stride)), v, a3);           \
    }                                                                                                      \
    const __m256 s01 = _mm256_hadd_ps(a0, a1), s23 = _mm256_hadd_ps(a2, a3);                               \
    const __m256 s = _mm256_hadd_ps(s01, s23);                                                             \
    __m128 total = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));                     \
    /* A tail (n not a multiple of 8) exists only for rows stored one after another. */                   \
    const uint16_t *r0 = (const uint16_t *)base, *r1 = (const uint16_t *)(base + stride);                 \
    const uint16_t *r2 = (const uint16_t *)(base + 2 * stride), *r3 = (const uint16_t *)(base + 3 * stride); \
    float tail[4] = {0, 0, 0, 0};                                                                          \
    for (; i < n; i++) {                                                                                   \
        tail[0] += SCALAR(r0[i]) * x[i];                                                                   \
        tail[1] += SCALAR(r1[i]) * x[i];                                                                   \
        tail[2] += SCALAR(r2[i]) * x[i];                                                                   \
        tail[3] += SCALAR(r3[i]) * x[i];                                                                   \
    }                                                                                                      \
    _mm_storeu_ps(out, _mm_add_ps(total, _mm_loadu_ps(tail)));

static inline float bf16_scalar(uint16_t h) { uint32_t u = (uint32_t)h << 16; float f; memcpy(&f, &u, 4); return f; }

AVX2 void aigc_rows4_f16_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t n, float *out) {
    ROWS4_HALF(load_f16x8, _cvtsh_ss)
}

AVX2 void aigc_rows4_bf16_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t n, float *out) {
    ROWS4_HALF(load_bf16x8, bf16_scalar)
}
