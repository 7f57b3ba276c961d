// Reference quantizers for the K-quant formats (Q4_K, Q5_K, Q6_K): per sub-block min/max or
// absolute-max scales, themselves quantized to 6 (Q4_K/Q5_K) or 8 (Q6_K) bits against a
// super-block scale, then round-to-nearest codes. Simpler than ggml's iterative search
// (make_qkx2_quants) and a little less accurate, but it writes the same block layouts, so any
// GGUF reader dequantizes the result.
#include <math.h>
#include <string.h>
#include "blocks.h"

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Sub-block scales and minima for 8 sub-blocks of 32 with `levels` codes each; returns the
// packed 6-bit form and the two super-block scales.
static void k_scales_mins(const float *x, int levels, uint8_t packed[12], uint16_t *d16, uint16_t *dmin16,
                          float dl_out[8], float ml_out[8]) {
    float scale[8], minv[8], max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        float mn = x[32 * j], mx = x[32 * j];
        for (int l = 1; l < 32; l++) {
            mn = fminf(mn, x[32 * j + l]);
            mx = fmaxf(mx, x[32 * j + l]);
        }
        if (mn > 0) mn = 0;
        scale[j] = (mx - mn) / (float)levels;
        minv[j] = -mn;
        max_scale = fmaxf(max_scale, scale[j]);
        max_min = fmaxf(max_min, minv[j]);
    }
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; j++) {
        ls[j] = (uint8_t)clampi((int)nearbyintf(inv_scale * scale[j]), 0, 63);
        lm[j] = (uint8_t)clampi((int)nearbyintf(inv_min * minv[j]), 0, 63);
    }
    *d16 = aigc_f32_to_f16(max_scale / 63.0f);
    *dmin16 = aigc_f32_to_f16(max_min / 63.0f);
    for (int j = 0; j < 4; j++) {
        packed[j] = (uint8_t)(ls[j] | ((ls[j + 4] >> 4) << 6));
        packed[j + 4] = (uint8_t)(lm[j] | ((lm[j + 4] >> 4) << 6));
        packed[j + 8] = (uint8_t)((ls[j + 4] & 0xF) | ((lm[j + 4] & 0xF) << 4));
    }
    const float d = aigc_f16_to_f32(*d16), dmin = aigc_f16_to_f32(*dmin16);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        scale_min_k4(j, packed, &sc, &m);
        dl_out[j] = d * sc;
        ml_out[j] = dmin * m;
    }
}

static void codes_k(const float *x, int maxcode, const float dl[8], const float ml[8], uint8_t L[256]) {
    for (int j = 0; j < 8; j++)
        for (int l = 0; l < 32; l++) {
            const float v = x[32 * j + l];
            L[32 * j + l] = dl[j] > 0 ? (uint8_t)clampi((int)nearbyintf((v + ml[j]) / dl[j]), 0, maxcode) : 0;
        }
}

static void quant_q4_K(const float *x, block_q4_K *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK_K) {
        float dl[8], ml[8];
        uint8_t L[QK_K];
        k_scales_mins(x, 15, y[i].scales, &y[i].d, &y[i].dmin, dl, ml);
        codes_k(x, 15, dl, ml, L);
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++) y[i].qs[32 * j + l] = (uint8_t)(L[64 * j + l] | (L[64 * j + 32 + l] << 4));
    }
}

static void quant_q5_K(const float *x, block_q5_K *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK_K) {
        float dl[8], ml[8];
        uint8_t L[QK_K];
        k_scales_mins(x, 31, y[i].scales, &y[i].d, &y[i].dmin, dl, ml);
        codes_k(x, 31, dl, ml, L);
        memset(y[i].qh, 0, sizeof(y[i].qh));
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++) {
                const uint8_t lo = L[64 * j + l], hi = L[64 * j + 32 + l];
                y[i].qs[32 * j + l] = (uint8_t)((lo & 0xF) | ((hi & 0xF) << 4));
                if (lo & 16) y[i].qh[l] |= (uint8_t)(1u << (2 * j));
                if (hi & 16) y[i].qh[l] |= (uint8_t)(2u << (2 * j));
            }
    }
}

static void quant_q6_K(const float *x, block_q6_K *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK_K) {
        float scale[16], max_scale = 0, max_abs_scale = 0;
        for (int j = 0; j < 16; j++) {
            float amax = 0, maxv = 0;
            for (int l = 0; l < 16; l++)
                if (fabsf(x[16 * j + l]) > amax) { amax = fabsf(x[16 * j + l]); maxv = x[16 * j + l]; }
            scale[j] = maxv / -32.0f;
            if (fabsf(scale[j]) > max_abs_scale) { max_abs_scale = fabsf(scale[j]); max_scale = scale[j]; }
        }
        const float iscale = max_abs_scale > 0 ? -128.0f / max_scale : 0.0f;
        y[i].d = aigc_f32_to_f16(max_abs_scale > 0 ? 1.0f / iscale : 0.0f);
        const float d = aigc_f16_to_f32(y[i].d);
        uint8_t L[QK_K];
        for (int j = 0; j < 16; j++) {
            y[i].scales[j] = (int8_t)clampi((int)nearbyintf(iscale * scale[j]), -128, 127);
            const float dl = d * y[i].scales[j];
            for (int l = 0; l < 16; l++) {
                const int q = dl != 0 ? clampi((int)nearbyintf(x[16 * j + l] / dl), -32, 31) : 0;
                L[16 * j + l] = (uint8_t)(q + 32);
            }
        }
        for (int n = 0; n < 2; n++)
            for (int l = 0; l < 32; l++) {
                const uint8_t *c = L + 128 * n;
                const uint8_t q1 = c[l], q2 = c[l + 32], q3 = c[l + 64], q4 = c[l + 96];
                y[i].ql[64 * n + l] = (uint8_t)((q1 & 0xF) | ((q3 & 0xF) << 4));
                y[i].ql[64 * n + l + 32] = (uint8_t)((q2 & 0xF) | ((q4 & 0xF) << 4));
                y[i].qh[32 * n + l] = (uint8_t)((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
    }
}

int aigc_quantize_k_row(int type, const float *src, void *dst, int64_t n) {
    if (n % QK_K != 0) return -1;
    switch (type) {
    case AIGC_TYPE_Q4_K: quant_q4_K(src, dst, n / QK_K); return 0;
    case AIGC_TYPE_Q5_K: quant_q5_K(src, dst, n / QK_K); return 0;
    case AIGC_TYPE_Q6_K: quant_q6_K(src, dst, n / QK_K); return 0;
    default: return -1;
    }
}
