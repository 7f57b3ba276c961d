// Portable (scalar) dequantizers, reference quantizers and dot products for every block type.
// Formulas follow ggml-quants.c (dequantize_row_*, quantize_row_*_ref); the dot products work on
// unsigned codes times signed int8 activations, with per-block corrections for offsets and minima,
// which is also how the AVX2 kernels compute them, so both paths agree to float rounding.
#include <math.h>
#include <string.h>
#include "blocks.h"

#define FP16(x) aigc_f16_to_f32(x)

// ---- dequantization -------------------------------------------------------------------------

static void dequant_q4_0(const block_q4_0 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = FP16(x[i].d);
        for (int j = 0; j < 16; j++) {
            y[i * 32 + j] = ((x[i].qs[j] & 0x0F) - 8) * d;
            y[i * 32 + j + 16] = ((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

static void dequant_q4_1(const block_q4_1 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = FP16(x[i].d), m = FP16(x[i].m);
        for (int j = 0; j < 16; j++) {
            y[i * 32 + j] = (x[i].qs[j] & 0x0F) * d + m;
            y[i * 32 + j + 16] = (x[i].qs[j] >> 4) * d + m;
        }
    }
}

static void dequant_q5_0(const block_q5_0 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = FP16(x[i].d);
        uint32_t qh;
        memcpy(&qh, x[i].qh, 4);
        for (int j = 0; j < 16; j++) {
            const uint8_t h0 = ((qh >> j) << 4) & 0x10;
            const uint8_t h1 = (qh >> (j + 12)) & 0x10;
            y[i * 32 + j] = (((x[i].qs[j] & 0x0F) | h0) - 16) * d;
            y[i * 32 + j + 16] = (((x[i].qs[j] >> 4) | h1) - 16) * d;
        }
    }
}

static void dequant_q5_1(const block_q5_1 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = FP16(x[i].d), m = FP16(x[i].m);
        uint32_t qh;
        memcpy(&qh, x[i].qh, 4);
        for (int j = 0; j < 16; j++) {
            const uint8_t h0 = ((qh >> j) << 4) & 0x10;
            const uint8_t h1 = (qh >> (j + 12)) & 0x10;
            y[i * 32 + j] = ((x[i].qs[j] & 0x0F) | h0) * d + m;
            y[i * 32 + j + 16] = ((x[i].qs[j] >> 4) | h1) * d + m;
        }
    }
}

static void dequant_q8_0(const block_q8_0 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = FP16(x[i].d);
        for (int j = 0; j < 32; j++) y[i * 32 + j] = x[i].qs[j] * d;
    }
}

static void dequant_q8_1(const block_q8_1 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = FP16(x[i].d);
        for (int j = 0; j < 32; j++) y[i * 32 + j] = x[i].qs[j] * d;
    }
}

static void dequant_q2_K(const block_q2_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = FP16(x[i].d), dmin = FP16(x[i].dmin);
        const uint8_t *q = x[i].qs;
        int is = 0;
        for (int n = 0; n < QK_K; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; j++) {
                uint8_t sc = x[i].scales[is++];
                float dl = d * (sc & 0xF), ml = dmin * (sc >> 4);
                for (int l = 0; l < 16; l++) *y++ = dl * ((q[l] >> shift) & 3) - ml;
                sc = x[i].scales[is++];
                dl = d * (sc & 0xF), ml = dmin * (sc >> 4);
                for (int l = 0; l < 16; l++) *y++ = dl * ((q[l + 16] >> shift) & 3) - ml;
                shift += 2;
            }
            q += 32;
        }
    }
}

static void dequant_q3_K(const block_q3_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d_all = FP16(x[i].d);
        int8_t scales[16];
        q3k_scales(x[i].scales, scales);
        const uint8_t *q = x[i].qs, *hm = x[i].hmask;
        uint8_t m = 1;
        int is = 0;
        for (int n = 0; n < QK_K; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; j++) {
                float dl = d_all * scales[is++];
                for (int l = 0; l < 16; l++) *y++ = dl * ((int)((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
                dl = d_all * scales[is++];
                for (int l = 0; l < 16; l++) *y++ = dl * ((int)((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
                shift += 2;
                m <<= 1;
            }
            q += 32;
        }
    }
}

static void dequant_q4_K(const block_q4_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = FP16(x[i].d), dmin = FP16(x[i].dmin);
        const uint8_t *q = x[i].qs;
        int is = 0;
        for (int j = 0; j < QK_K; j += 64) {
            uint8_t sc, m;
            scale_min_k4(is + 0, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            scale_min_k4(is + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
            q += 32;
            is += 2;
        }
    }
}

static void dequant_q5_K(const block_q5_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = FP16(x[i].d), dmin = FP16(x[i].dmin);
        const uint8_t *ql = x[i].qs, *qh = x[i].qh;
        int is = 0;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0; j < QK_K; j += 64) {
            uint8_t sc, m;
            scale_min_k4(is + 0, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            scale_min_k4(is + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
            ql += 32;
            is += 2;
            u1 <<= 2;
            u2 <<= 2;
        }
    }
}

static void dequant_q6_K(const block_q6_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = FP16(x[i].d);
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *sc = x[i].scales;
        for (int n = 0; n < QK_K; n += 128) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = (int)((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = (int)((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * sc[is + 0] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}

static void dequant_q8_K(const block_q8_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++)
        for (int j = 0; j < QK_K; j++) y[i * QK_K + j] = x[i].d * x[i].qs[j];
}

int aigc_dequantize_row(int type, const void *src, float *dst, int64_t n) {
    const int64_t be = aigc_type_block_elements(type);
    if (be <= 0 || n % be != 0) return -1;
    const int64_t nb = n / be;
    switch (type) {
    case AIGC_TYPE_F32: memcpy(dst, src, (size_t)n * 4); return 0;
    case AIGC_TYPE_F16: aigc_f16_to_f32_row(src, dst, n); return 0;
    case AIGC_TYPE_BF16: aigc_bf16_to_f32_row(src, dst, n); return 0;
    case AIGC_TYPE_Q4_0: dequant_q4_0(src, dst, nb); return 0;
    case AIGC_TYPE_Q4_1: dequant_q4_1(src, dst, nb); return 0;
    case AIGC_TYPE_Q5_0: dequant_q5_0(src, dst, nb); return 0;
    case AIGC_TYPE_Q5_1: dequant_q5_1(src, dst, nb); return 0;
    case AIGC_TYPE_Q8_0: dequant_q8_0(src, dst, nb); return 0;
    case AIGC_TYPE_Q8_1: dequant_q8_1(src, dst, nb); return 0;
    case AIGC_TYPE_Q2_K: dequant_q2_K(src, dst, nb); return 0;
    case AIGC_TYPE_Q3_K: dequant_q3_K(src, dst, nb); return 0;
    case AIGC_TYPE_Q4_K: dequant_q4_K(src, dst, nb); return 0;
    case AIGC_TYPE_Q5_K: dequant_q5_K(src, dst, nb); return 0;
    case AIGC_TYPE_Q6_K: dequant_q6_K(src, dst, nb); return 0;
    case AIGC_TYPE_Q8_K: dequant_q8_K(src, dst, nb); return 0;
    default: return -1;
    }
}

// ---- reference quantizers -------------------------------------------------------------------

static void quant_q4_0(const float *x, block_q4_0 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += 32) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 32; j++)
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        const float d = max / -8, id = d ? 1.0f / d : 0.0f;
        y[i].d = aigc_f32_to_f16(d);
        for (int j = 0; j < 16; j++) {
            int a = (int)(int8_t)(x[j] * id + 8.5f), b = (int)(int8_t)(x[16 + j] * id + 8.5f);
            a = a < 15 ? a : 15;
            b = b < 15 ? b : 15;
            y[i].qs[j] = (uint8_t)(a | (b << 4));
        }
    }
}

static void quant_q4_1(const float *x, block_q4_1 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += 32) {
        float min = INFINITY, max = -INFINITY;
        for (int j = 0; j < 32; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / 15, id = d ? 1.0f / d : 0.0f;
        y[i].d = aigc_f32_to_f16(d);
        y[i].m = aigc_f32_to_f16(min);
        for (int j = 0; j < 16; j++) {
            int a = (int)(int8_t)((x[j] - min) * id + 0.5f), b = (int)(int8_t)((x[16 + j] - min) * id + 0.5f);
            a = a < 15 ? a : 15;
            b = b < 15 ? b : 15;
            y[i].qs[j] = (uint8_t)(a | (b << 4));
        }
    }
}

static void quant_q5_0(const float *x, block_q5_0 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += 32) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 32; j++)
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        const float d = max / -16, id = d ? 1.0f / d : 0.0f;
        y[i].d = aigc_f32_to_f16(d);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            int a = (int)(int8_t)(x[j] * id + 16.5f), b = (int)(int8_t)(x[16 + j] * id + 16.5f);
            a = a < 31 ? a : 31;
            b = b < 31 ? b : 31;
            y[i].qs[j] = (uint8_t)((a & 0x0F) | ((b & 0x0F) << 4));
            qh |= ((uint32_t)(a & 0x10) >> 4) << j;
            qh |= ((uint32_t)(b & 0x10) >> 4) << (j + 16);
        }
        memcpy(y[i].qh, &qh, 4);
    }
}

static void quant_q5_1(const float *x, block_q5_1 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += 32) {
        float min = INFINITY, max = -INFINITY;
        for (int j = 0; j < 32; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / 31, id = d ? 1.0f / d : 0.0f;
        y[i].d = aigc_f32_to_f16(d);
        y[i].m = aigc_f32_to_f16(min);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            const int a = (int)(uint8_t)((x[j] - min) * id + 0.5f), b = (int)(uint8_t)((x[16 + j] - min) * id + 0.5f);
            y[i].qs[j] = (uint8_t)((a & 0x0F) | ((b & 0x0F) << 4));
            qh |= ((uint32_t)(a & 0x10) >> 4) << j;
            qh |= ((uint32_t)(b & 0x10) >> 4) << (j + 16);
        }
        memcpy(y[i].qh, &qh, 4);
    }
}

static void quant_q8_0(const float *x, block_q8_0 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        y[i].d = aigc_f32_to_f16(d);
        for (int j = 0; j < 32; j++) y[i].qs[j] = (int8_t)roundf(x[j] * id);
    }
}

static void quant_q8_1(const float *x, block_q8_1 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            y[i].qs[j] = (int8_t)roundf(x[j] * id);
            sum += y[i].qs[j];
        }
        y[i].d = aigc_f32_to_f16(d);
        y[i].s = aigc_f32_to_f16(sum * d);
    }
}

void aigc_quantize_q8a_scalar(const float *x, void *out, int64_t n) {
    block_q8a *y = out;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            const int q = (int)nearbyintf(x[j] * id);
            y[i].qs[j] = (int8_t)q;
            sum += q;
        }
        y[i].d = d;
        y[i].s = d * (float)sum;
    }
}

void aigc_quantize_q8_K_scalar(const float *x, void *out, int64_t n) {
    block_q8_K *y = out;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float amax = 0.0f;
        for (int j = 0; j < QK_K; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        for (int j = 0; j < QK_K; j++) y[i].qs[j] = (int8_t)nearbyintf(x[j] * id);
        for (int j = 0; j < QK_K / 16; j++) {
            int sum = 0;
            for (int l = 0; l < 16; l++) sum += y[i].qs[j * 16 + l];
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = d;
    }
}

int aigc_quantize_row(int type, const float *src, void *dst, int64_t n) {
    const int64_t be = aigc_type_block_elements(type);
    if (be <= 0 || n % be != 0) return -1;
    const int64_t nb = n / be;
    switch (type) {
    case AIGC_TYPE_F32: memcpy(dst, src, (size_t)n * 4); return 0;
    case AIGC_TYPE_F16: aigc_f32_to_f16_row(src, dst, n); return 0;
    case AIGC_TYPE_BF16: {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = aigc_f32_to_bf16(src[i]);
        return 0;
    }
    case AIGC_TYPE_Q4_0: quant_q4_0(src, dst, nb); return 0;
    case AIGC_TYPE_Q4_1: quant_q4_1(src, dst, nb); return 0;
    case AIGC_TYPE_Q5_0: quant_q5_0(src, dst, nb); return 0;
    case AIGC_TYPE_Q5_1: quant_q5_1(src, dst, nb); return 0;
    case AIGC_TYPE_Q8_0: quant_q8_0(src, dst, nb); return 0;
    case AIGC_TYPE_Q8_1: quant_q8_1(src, dst, nb); return 0;
    case AIGC_TYPE_Q8_K: aigc_quantize_q8_K_scalar(src, dst, n); return 0;
    default: return aigc_quantize_k_row(type, src, dst, n);
    }
}

// ---- scalar dot products --------------------------------------------------------------------

static inline int dot_u4_lo_hi(const uint8_t *qs, const int8_t *a) {
    int sum = 0;
    for (int j = 0; j < 16; j++) sum += (qs[j] & 0x0F) * a[j] + (qs[j] >> 4) * a[j + 16];
    return sum;
}

float aigc_dot_q4_0_scalar(const void *w, const void *a, int64_t n) {
    const block_q4_0 *x = w;
    const block_q8a *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 32; i++) {
        const float d = FP16(x[i].d);
        sum += d * (y[i].d * (float)dot_u4_lo_hi(x[i].qs, y[i].qs) - 8.0f * y[i].s);
    }
    return sum;
}

float aigc_dot_q4_1_scalar(const void *w, const void *a, int64_t n) {
    const block_q4_1 *x = w;
    const block_q8a *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 32; i++)
        sum += FP16(x[i].d) * y[i].d * (float)dot_u4_lo_hi(x[i].qs, y[i].qs) + FP16(x[i].m) * y[i].s;
    return sum;
}

static inline int dot_u5(const uint8_t *qs, const uint8_t *qhp, const int8_t *a) {
    uint32_t qh;
    memcpy(&qh, qhp, 4);
    int sum = 0;
    for (int j = 0; j < 16; j++) {
        const int lo = (qs[j] & 0x0F) | (((qh >> j) << 4) & 0x10);
        const int hi = (qs[j] >> 4) | ((qh >> (j + 12)) & 0x10);
        sum += lo * a[j] + hi * a[j + 16];
    }
    return sum;
}

float aigc_dot_q5_0_scalar(const void *w, const void *a, int64_t n) {
    const block_q5_0 *x = w;
    const block_q8a *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 32; i++)
        sum += FP16(x[i].d) * (y[i].d * (float)dot_u5(x[i].qs, x[i].qh, y[i].qs) - 16.0f * y[i].s);
    return sum;
}

float aigc_dot_q5_1_scalar(const void *w, const void *a, int64_t n) {
    const block_q5_1 *x = w;
    const block_q8a *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 32; i++)
        sum += FP16(x[i].d) * y[i].d * (float)dot_u5(x[i].qs, x[i].qh, y[i].qs) + FP16(x[i].m) * y[i].s;
    return sum;
}

float aigc_dot_q8_0_scalar(const void *w, const void *a, int64_t n) {
    const block_q8_0 *x = w;
    const block_q8a *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 32; i++) {
        int s = 0;
        for (int j = 0; j < 32; j++) s += x[i].qs[j] * y[i].qs[j];
        sum += FP16(x[i].d) * y[i].d * (float)s;
    }
    return sum;
}

float aigc_dot_q2_K_scalar(const void *w, const void *a, int64_t n) {
    const block_q2_K *x = w;
    const block_q8_K *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int scaled = 0, mins = 0;
        for (int sub = 0; sub < 16; sub++) {
            // element e = 16*sub + l lives in qs[32*(e/128) + e%32] at bit shift 2*((e%128)/32)
            const int chunk = sub / 8, shift = 2 * ((sub % 8) / 2), half = sub % 2;
            const uint8_t *q = x[i].qs + 32 * chunk + 16 * half;
            const int8_t *ay = y[i].qs + 16 * sub;
            int s = 0;
            for (int l = 0; l < 16; l++) s += ((q[l] >> shift) & 3) * ay[l];
            scaled += (x[i].scales[sub] & 0xF) * s;
            mins += (x[i].scales[sub] >> 4) * y[i].bsums[sub];
        }
        sum += y[i].d * (FP16(x[i].d) * (float)scaled - FP16(x[i].dmin) * (float)mins);
    }
    return sum;
}

float aigc_dot_q3_K_scalar(const void *w, const void *a, int64_t n) {
    const block_q3_K *x = w;
    const block_q8_K *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t scales[16];
        q3k_scales(x[i].scales, scales);
        int total = 0;
        for (int sub = 0; sub < 16; sub++) {
            const int chunk = sub / 8, j = (sub % 8) / 2, half = sub % 2;
            const uint8_t *q = x[i].qs + 32 * chunk + 16 * half;
            const uint8_t *hm = x[i].hmask + 16 * half;
            const uint8_t m = (uint8_t)(1u << (4 * chunk + j));
            const int8_t *ay = y[i].qs + 16 * sub;
            int s = 0;
            for (int l = 0; l < 16; l++) {
                const int code = ((q[l] >> (2 * j)) & 3) + ((hm[l] & m) ? 4 : 0); // 0..7, value = code - 4
                s += code * ay[l];
            }
            total += scales[sub] * (s - 4 * y[i].bsums[sub]);
        }
        sum += FP16(x[i].d) * y[i].d * (float)total;
    }
    return sum;
}

float aigc_dot_q4_K_scalar(const void *w, const void *a, int64_t n) {
    const block_q4_K *x = w;
    const block_q8_K *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int scaled = 0, mins = 0;
        for (int j = 0; j < 4; j++) {
            uint8_t sc1, m1, sc2, m2;
            scale_min_k4(2 * j, x[i].scales, &sc1, &m1);
            scale_min_k4(2 * j + 1, x[i].scales, &sc2, &m2);
            const uint8_t *q = x[i].qs + 32 * j;
            const int8_t *ay = y[i].qs + 64 * j;
            int s1 = 0, s2 = 0;
            for (int l = 0; l < 32; l++) {
                s1 += (q[l] & 0xF) * ay[l];
                s2 += (q[l] >> 4) * ay[l + 32];
            }
            scaled += sc1 * s1 + sc2 * s2;
            mins += m1 * (y[i].bsums[4 * j] + y[i].bsums[4 * j + 1]) + m2 * (y[i].bsums[4 * j + 2] + y[i].bsums[4 * j + 3]);
        }
        sum += y[i].d * (FP16(x[i].d) * (float)scaled - FP16(x[i].dmin) * (float)mins);
    }
    return sum;
}

float aigc_dot_q5_K_scalar(const void *w, const void *a, int64_t n) {
    const block_q5_K *x = w;
    const block_q8_K *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int scaled = 0, mins = 0;
        for (int j = 0; j < 4; j++) {
            uint8_t sc1, m1, sc2, m2;
            scale_min_k4(2 * j, x[i].scales, &sc1, &m1);
            scale_min_k4(2 * j + 1, x[i].scales, &sc2, &m2);
            const uint8_t *q = x[i].qs + 32 * j;
            const int8_t *ay = y[i].qs + 64 * j;
            const uint8_t u1 = (uint8_t)(1u << (2 * j)), u2 = (uint8_t)(2u << (2 * j));
            int s1 = 0, s2 = 0;
            for (int l = 0; l < 32; l++) {
                s1 += ((q[l] & 0xF) + ((x[i].qh[l] & u1) ? 16 : 0)) * ay[l];
                s2 += ((q[l] >> 4) + ((x[i].qh[l] & u2) ? 16 : 0)) * ay[l + 32];
            }
            scaled += sc1 * s1 + sc2 * s2;
            mins += m1 * (y[i].bsums[4 * j] + y[i].bsums[4 * j + 1]) + m2 * (y[i].bsums[4 * j + 2] + y[i].bsums[4 * j + 3]);
        }
        sum += y[i].d * (FP16(x[i].d) * (float)scaled - FP16(x[i].dmin) * (float)mins);
    }
    return sum;
}

float aigc_dot_q6_K_scalar(const void *w, const void *a, int64_t n) {
    const block_q6_K *x = w;
    const block_q8_K *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int total = 0;
        for (int chunk = 0; chunk < 2; chunk++) {
            const uint8_t *ql = x[i].ql + 64 * chunk, *qh = x[i].qh + 32 * chunk;
            const int8_t *ay = y[i].qs + 128 * chunk;
            int s[8] = {0};
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                s[is + 0] += ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) * ay[l];
                s[is + 2] += ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) * ay[l + 32];
                s[is + 4] += ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) * ay[l + 64];
                s[is + 6] += ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) * ay[l + 96];
            }
            for (int k = 0; k < 8; k++) {
                const int sub = 8 * chunk + k;
                total += x[i].scales[sub] * (s[k] - 32 * y[i].bsums[sub]);
            }
        }
        sum += FP16(x[i].d) * y[i].d * (float)total;
    }
    return sum;
}

float aigc_dot_f16_scalar(const void *w, const void *a, int64_t n) {
    const uint16_t *x = w;
    const float *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += FP16(x[i]) * y[i];
    return sum;
}

float aigc_dot_bf16_scalar(const void *w, const void *a, int64_t n) {
    const uint16_t *x = w;
    const float *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        const uint32_t bits = (uint32_t)x[i] << 16;
        float f;
        memcpy(&f, &bits, 4);
        sum += f * y[i];
    }
    return sum;
}

float aigc_dot_f32_scalar(const void *w, const void *a, int64_t n) {
    const float *x = w, *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += x[i] * y[i];
    return sum;
}
