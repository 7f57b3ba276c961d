// Block layouts of the quantized types, byte for byte as ggml stores them (ggml-common.h).
#ifndef AIGC_BLOCKS_H
#define AIGC_BLOCKS_H

#include <stdint.h>
#include "aigc_kernels.h"

#define QK32 32
#define QK_K 256
#define K_SCALE_SIZE 12

typedef struct { uint16_t d; uint8_t qs[QK32 / 2]; } block_q4_0;                  // 18 bytes
typedef struct { uint16_t d, m; uint8_t qs[QK32 / 2]; } block_q4_1;               // 20
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[QK32 / 2]; } block_q5_0;   // 22
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[QK32 / 2]; } block_q5_1; // 24
typedef struct { uint16_t d; int8_t qs[QK32]; } block_q8_0;                       // 34
typedef struct { uint16_t d, s; int8_t qs[QK32]; } block_q8_1;                    // 36

typedef struct { uint8_t scales[QK_K / 16]; uint8_t qs[QK_K / 4]; uint16_t d, dmin; } block_q2_K; // 84
typedef struct { uint8_t hmask[QK_K / 8]; uint8_t qs[QK_K / 4]; uint8_t scales[12]; uint16_t d; } block_q3_K; // 110
typedef struct { uint16_t d, dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qs[QK_K / 2]; } block_q4_K; // 144
typedef struct { uint16_t d, dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2]; } block_q5_K; // 176
typedef struct { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; uint16_t d; } block_q6_K; // 210
typedef struct { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; } block_q8_K; // 292

// Prepared activations for the 32-element formats: d is the scale, s = d * sum(q).
typedef struct { float d; float s; int8_t qs[QK32]; } block_q8a; // 40

_Static_assert(sizeof(block_q4_0) == 18, "q4_0 layout");
_Static_assert(sizeof(block_q4_1) == 20, "q4_1 layout");
_Static_assert(sizeof(block_q5_0) == 22, "q5_0 layout");
_Static_assert(sizeof(block_q5_1) == 24, "q5_1 layout");
_Static_assert(sizeof(block_q8_0) == 34, "q8_0 layout");
_Static_assert(sizeof(block_q8_1) == 36, "q8_1 layout");
_Static_assert(sizeof(block_q2_K) == 84, "q2_K layout");
_Static_assert(sizeof(block_q3_K) == 110, "q3_K layout");
_Static_assert(sizeof(block_q4_K) == 144, "q4_K layout");
_Static_assert(sizeof(block_q5_K) == 176, "q5_K layout");
_Static_assert(sizeof(block_q6_K) == 210, "q6_K layout");
_Static_assert(sizeof(block_q8_K) == 292, "q8_K layout");
_Static_assert(sizeof(block_q8a) == 40, "q8a layout");

// The 6-bit scale and min of sub-block j of a Q4_K/Q5_K block (ggml's get_scale_min_k4).
static inline void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
    }
}

// The sixteen signed 6-bit scales of a Q3_K block, unpacked from its 12 packed bytes.
static inline void q3k_scales(const uint8_t *packed, int8_t out[16]) {
    uint32_t aux[4];
    const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
    __builtin_memcpy(aux, packed, 12);
    uint32_t tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
    aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
    aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
    __builtin_memcpy(out, aux, 16);
    for (int i = 0; i < 16; i++) out[i] = (int8_t)(out[i] - 32);
}

// Scalar reference dot products (quant_scalar.c); the fast paths are checked against these.
float aigc_dot_q4_0_scalar(const void *w, const void *a, int64_t n);
float aigc_dot_q4_1_scalar(const void *w, const void *a, int64_t n);
float aigc_dot_q5_0_scalar(const void *w, const void *a, int64_t n);
float aigc_dot_q5_1_scalar(const void *w, const void *a, int64_t n);
float aigc_dot_q8_0_scalar(const void *w, const void *a, int64_t n);
float aigc_dot_q2_K_scalar(const void *w, const void *a, int64_t n);
float aigc_dot_q3_K_scalar(const void *w, const void *a, int64_t n);
float aigc_dot_q4_K_scalar(const void *w, const void *a, int64_t n);
float aigc_dot_q5_K_scalar(const void *w, const void *a, int64_t n);
float aigc_dot_q6_K_scalar(const void *w, const void *a, int64_t n);
float aigc_dot_f16_scalar(const void *w, const void *a, int64_t n);
float aigc_dot_bf16_scalar(const void *w, const void *a, int64_t n);
float aigc_dot_f32_scalar(const void *w, const void *a, int64_t n);
void aigc_quantize_q8a_scalar(const float *x, void *out, int64_t n);
void aigc_quantize_q8_K_scalar(const float *x, void *out, int64_t n);
void aigc_quantize_q8a_avx2(const float *x, void *out, int64_t n);
void aigc_quantize_q8_K_avx2(const float *x, void *out, int64_t n);
int aigc_quantize_k_row(int type, const float *src, void *dst, int64_t n);

// AVX2 versions (quant_avx2.c); only called when the CPU has AVX2, FMA and F16C.
float aigc_dot_q4_0_avx2(const void *w, const void *a, int64_t n);
float aigc_dot_q4_1_avx2(const void *w, const void *a, int64_t n);
float aigc_dot_q5_0_avx2(const void *w, const void *a, int64_t n);
float aigc_dot_q5_1_avx2(const void *w, const void *a, int64_t n);
float aigc_dot_q8_0_avx2(const void *w, const void *a, int64_t n);
float aigc_dot_q4_K_avx2(const void *w, const void *a, int64_t n);
float aigc_dot_q5_K_avx2(const void *w, const void *a, int64_t n);
float aigc_dot_q6_K_avx2(const void *w, const void *a, int64_t n);
float aigc_dot_f16_avx2(const void *w, const void *a, int64_t n);
float aigc_dot_bf16_avx2(const void *w, const void *a, int64_t n);
float aigc_dot_f32_avx2(const void *w, const void *a, int64_t n);
void aigc_f16_to_f32_row_avx2(const uint16_t *src, float *dst, int64_t n);

// Four-row matrix-vector kernels (matvec_avx2.c): out[r] = dot(row r, a) for the rows
// at w, w + stride, w + 2 stride, w + 3 stride; nb blocks per row, block i of a row `step` bytes
// after block i - 1 (the block size, or four for rows interleaved by aigc_interleave_rows4; for
// F16/BF16 a "block" is 8 elements, 16 bytes).
typedef void (*aigc_rows4_fn)(const void *w, int64_t stride, int64_t step, const void *a, int64_t nb, float *out);
void aigc_rows4_q4_0_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t nb, float *out);
void aigc_rows4_q4_1_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t nb, float *out);
void aigc_rows4_q5_0_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t nb, float *out);
void aigc_rows4_q5_1_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t nb, float *out);
void aigc_rows4_q8_0_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t nb, float *out);
void aigc_rows4_f16_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t n, float *out);
void aigc_rows4_bf16_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t n, float *out);
// Four weight rows times T activation rows (a_stride bytes apart): out[4 t + r].
typedef void (*aigc_rows4xt_fn)(const void *w, int64_t stride, int64_t step, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_rows4x4_q4_0_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_rows4x2_q4_0_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_rows4x4_q4_1_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_rows4x2_q4_1_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_rows4x4_q5_0_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_rows4x2_q5_0_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_rows4x4_q5_1_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_rows4x2_q5_1_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_rows4x4_q8_0_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_rows4x2_q8_0_avx2(const void *w, int64_t stride, int64_t step, const void *a, int64_t a_stride, int64_t nb, float *out);

// Q4_0 / Q4_1 interleaved with split scales (matvec_q4_interleaved.c): T activation rows against
// the four rows of one group, out[4 t + r].
typedef void (*aigc_il_q4_fn)(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_interleave_q4(int type, const void *w, int64_t w_stride, int64_t rows, int64_t nb, void *out);
void aigc_q4_block_from_interleaved(int type, const void *group, int64_t i, int r, void *block);
void aigc_il_rows4_q4_0_avx2(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_il_rows4x2_q4_0_avx2(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_il_rows4x4_q4_0_avx2(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_il_rows4_q4_1_avx2(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_il_rows4x2_q4_1_avx2(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_il_rows4x4_q4_1_avx2(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_il_rows4x2_q4_0_vnni(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_il_rows4x4_q4_0_vnni(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_il_rows4x2_q4_1_vnni(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_il_rows4x4_q4_1_vnni(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_il_rows4_q4_0_zmm(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out);
void aigc_il_rows4_q4_1_zmm(const void *w, const void *a, int64_t a_stride, int64_t nb, float *out);

#endif
