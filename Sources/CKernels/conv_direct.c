// Direct stride-1 convolution for layers with few channels (64 -> 64 3x3 and the like), where
// im2col + sgemm loses half its speed: K = in * kH * kW is only 576, so sgemm re-packs its panels
// for little work and the patch matrix (9x the input) streams through the cache once per tile.
//
// The input is padded once (aigc pads it in Swift) so that every output row has the same pitch as
// the padded rows. Output position p = oy * pitch + ox then reads input p + ky * pitch + kx for
// every tap: the convolution over the flattened plane is a 1-D correlation with kH * kW shifts, so
// one loop over positions serves every row (the pitch - outWidth positions at the end of each row
// are computed and dropped). The register tile is 6 output channels x 16 positions: per tap two
// unaligned loads of the input, six broadcasts of the weights, twelve FMAs — FMA-bound on Zen
// (two FMA and two or three load ports), unlike one channel per tile, which is load-bound.
//
// Weights are packed [ceil(out / 6)][in][kH][kW][6] so that the six broadcasts of a tap are one
// 24-byte run (missing channels of the last block are zeros).
#include <immintrin.h>
#include <string.h>
#include "aigc_kernels.h"

#define AVX2 __attribute__((target("avx2,fma")))
#define TILE_CHANNELS 6
#define TILE_POSITIONS 16

void aigc_conv_pack_weights(float *dst, const float *weight, int64_t out, int64_t in, int64_t taps) {
    const int64_t blocks = (out + TILE_CHANNELS - 1) / TILE_CHANNELS;
    memset(dst, 0, (size_t)(blocks * in * taps * TILE_CHANNELS) * sizeof(float));
    for (int64_t o = 0; o < out; o++) {
        float *block = dst + (o / TILE_CHANNELS) * in * taps * TILE_CHANNELS + o % TILE_CHANNELS;
        for (int64_t c = 0; c < in; c++)
            for (int64_t t = 0; t < taps; t++) block[(c * taps + t) * TILE_CHANNELS] = weight[(o * in + c) * taps + t];
    }
}

// The portable version: the same sums in the same order per output (taps in channel, ky, kx order,
// starting from zero), so the fast path differs from it only by FMA rounding.
void aigc_conv_direct_scalar(float *out, int64_t out_stride, const float *packed, int64_t block_begin, int64_t block_end,
                             const float *in, int64_t plane, int64_t pitch, int64_t channels, int64_t kh, int64_t kw,
                             int64_t first, int64_t count) {
    const int64_t taps = kh * kw;
    for (int64_t b = block_begin; b < block_end; b++) {
        const float *wb = packed + b * channels * taps * TILE_CHANNELS;
        for (int64_t p = 0; p < count; p++) {
            float acc[TILE_CHANNELS] = {0};
            for (int64_t c = 0; c < channels; c++) {
                const float *src = in + c * plane + first + p;
                const float *wc = wb + c * taps * TILE_CHANNELS;
                for (int64_t ky = 0; ky < kh; ky++)
                    for (int64_t kx = 0; kx < kw; kx++) {
                        const float x = src[ky * pitch + kx];
                        const float *w = wc + (ky * kw + kx) * TILE_CHANNELS;
                        for (int r = 0; r < TILE_CHANNELS; r++) acc[r] += w[r] * x;
                    }
            }
            for (int r = 0; r < TILE_CHANNELS; r++) out[(b * TILE_CHANNELS + r) * out_stride + p] = acc[r];
        }
    }
}

// One tile: 6 channels x 16 positions starting at src, summed over `channels` planes: the register
// plan of BLIS's 6x16 Haswell sgemm kernel (12 accumulators, 2 input vectors, 1 broadcast). A
// 4 x 24 tile needs all 16 registers and clang then spills an accumulator (72 GFLOPS against 93).
AVX2 static inline void tile_6x16(float *out, int64_t out_stride, const float *wb, const float *src, int64_t plane,
                                  int64_t pitch, int64_t channels, int64_t kh, int64_t kw) {
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
    __m256 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
    const int64_t taps = kh * kw;
    for (int64_t c = 0; c < channels; c++) {
        const float *s = src + c * plane;
        const float *w = wb + c * taps * TILE_CHANNELS;
        for (int64_t ky = 0; ky < kh; ky++) {
            const float *row = s + ky * pitch;
            for (int64_t kx = 0; kx < kw; kx++, w += TILE_CHANNELS) {
                const __m256 x0 = _mm256_loadu_ps(row + kx), x1 = _mm256_loadu_ps(row + kx + 8);
                __m256 v = _mm256_broadcast_ss(w);
                a00 = _mm256_fmadd_ps(v, x0, a00); a01 = _mm256_fmadd_ps(v, x1, a01);
                v = _mm256_broadcast_ss(w + 1);
                a10 = _mm256_fmadd_ps(v, x0, a10); a11 = _mm256_fmadd_ps(v, x1, a11);
                v = _mm256_broadcast_ss(w + 2);
                a20 = _mm256_fmadd_ps(v, x0, a20); a21 = _mm256_fmadd_ps(v, x1, a21);
                v = _mm256_broadcast_ss(w + 3);
                a30 = _mm256_fmadd_ps(v, x0, a30); a31 = _mm256_fmadd_ps(v, x1, a31);
                v = _mm256_broadcast_ss(w + 4);
                a40 = _mm256_fmadd_ps(v, x0, a40); a41 = _mm256_fmadd_ps(v, x1, a41);
                v = _mm256_broadcast_ss(w + 5);
                a50 = _mm256_fmadd_ps(v, x0, a50); a51 = _mm256_fmadd_ps(v, x1, a51);
            }
        }
    }
    _mm256_storeu_ps(out, a00); _mm256_storeu_ps(out + 8, a01); out += out_stride;
    _mm256_storeu_ps(out, a10); _mm256_storeu_ps(out + 8, a11); out += out_stride;
    _mm256_storeu_ps(out, a20); _mm256_storeu_ps(out + 8, a21); out += out_stride;
    _mm256_storeu_ps(out, a30); _mm256_storeu_ps(out + 8, a31); out += out_stride;
    _mm256_storeu_ps(out, a40); _mm256_storeu_ps(out + 8, a41); out += out_stride;
    _mm256_storeu_ps(out, a50); _mm256_storeu_ps(out + 8, a51);
}

// For each tile of positions every channel block in turn: the tile's input rows (channels x kH rows
// of 16 + kW floats) stay in L1 while the packed weights stream through in order, as sgemm streams
// its packed panel. 3x3 taps are constants here, so the tap loops unroll.
AVX2 static void tiles_3x3(float *out, int64_t out_stride, const float *packed, int64_t b0, int64_t b1, const float *src,
                           int64_t plane, int64_t pitch, int64_t channels, int64_t count) {
    const int64_t block_size = channels * 9 * TILE_CHANNELS;
    for (int64_t p = 0; p < count; p += TILE_POSITIONS)
        for (int64_t b = b0; b < b1; b++)
            tile_6x16(out + b * TILE_CHANNELS * out_stride + p, out_stride, packed + b * block_size, src + p, plane, pitch, channels, 3, 3);
}

AVX2 static void tiles_any(float *out, int64_t out_stride, const float *packed, int64_t b0, int64_t b1, const float *src,
                           int64_t plane, int64_t pitch, int64_t channels, int64_t kh, int64_t kw, int64_t count) {
    const int64_t block_size = channels * kh * kw * TILE_CHANNELS;
    for (int64_t p = 0; p < count; p += TILE_POSITIONS)
        for (int64_t b = b0; b < b1; b++)
            tile_6x16(out + b * TILE_CHANNELS * out_stride + p, out_stride, packed + b * block_size, src + p, plane, pitch, channels, kh, kw);
}

// `count` is rounded up to a multiple of 16 here: the input must hold 16 + kW floats past the last
// position read and `out` rows 16 floats past `count` (aigc allocates that slack).
void aigc_conv_direct_avx2(float *out, int64_t out_stride, const float *packed, int64_t block_begin, int64_t block_end,
                           const float *in, int64_t plane, int64_t pitch, int64_t channels, int64_t kh, int64_t kw,
                           int64_t first, int64_t count) {
    if (kh == 3 && kw == 3) tiles_3x3(out, out_stride, packed, block_begin, block_end, in + first, plane, pitch, channels, count);
    else tiles_any(out, out_stride, packed, block_begin, block_end, in + first, plane, pitch, channels, kh, kw, count);
}
