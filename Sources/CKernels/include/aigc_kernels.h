// CKernels: the innermost loops of aigc in C — block quantization formats, dot products on
// quantized blocks (scalar reference + AVX2/AVX-512 fast paths picked at run time), half-precision
// conversion and a persistent worker pool. Block layouts follow ggml (ggml-common.h, ggml-quants.c)
// so that GGUF files are used in place.
#ifndef AIGC_KERNELS_H
#define AIGC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Tensor element types. The numbers are ggml's `ggml_type` ids, as stored in GGUF tensor infos.
enum aigc_type {
    AIGC_TYPE_F32 = 0,
    AIGC_TYPE_F16 = 1,
    AIGC_TYPE_Q4_0 = 2,
    AIGC_TYPE_Q4_1 = 3,
    AIGC_TYPE_Q5_0 = 6,
    AIGC_TYPE_Q5_1 = 7,
    AIGC_TYPE_Q8_0 = 8,
    AIGC_TYPE_Q8_1 = 9,
    AIGC_TYPE_Q2_K = 10,
    AIGC_TYPE_Q3_K = 11,
    AIGC_TYPE_Q4_K = 12,
    AIGC_TYPE_Q5_K = 13,
    AIGC_TYPE_Q6_K = 14,
    AIGC_TYPE_Q8_K = 15,
    AIGC_TYPE_I8 = 24,
    AIGC_TYPE_I16 = 25,
    AIGC_TYPE_I32 = 26,
    AIGC_TYPE_I64 = 27,
    AIGC_TYPE_F64 = 28,
    AIGC_TYPE_BF16 = 30,
};

/// Elements per block (1 for plain types), or 0 for an id aigc does not know.
int64_t aigc_type_block_elements(int type);
/// Bytes per block (element size for plain types), or 0 for an unknown id.
int64_t aigc_type_block_bytes(int type);

// ---- CPU features and the fast-path switch -------------------------------------------------
enum aigc_simd_level { AIGC_SIMD_SCALAR = 0, AIGC_SIMD_AVX2 = 1, AIGC_SIMD_AVX512 = 2 };
/// The best level this CPU supports (AVX2 needs avx2+fma+f16c; AVX-512 needs f,bw,vl).
int aigc_cpu_simd_level(void);
/// The level kernels use now; starts at the CPU's best (or AIGC_SIMD from the environment).
int aigc_simd_level(void);
/// Whether the CPU has AVX-512 VNNI (the int8 kernels use it at the AVX512 level).
int aigc_cpu_has_vnni(void);
/// Caps the level for the calling thread only (tests compare the scalar path with the fast one);
/// returns the level in effect.
int aigc_set_simd_level(int level);

// ---- half precision ------------------------------------------------------------------------
float aigc_f16_to_f32(uint16_t h);
uint16_t aigc_f32_to_f16(float f);
void aigc_f16_to_f32_row(const uint16_t *src, float *dst, int64_t n);
void aigc_f32_to_f16_row(const float *src, uint16_t *dst, int64_t n);
/// dst = src as half floats, values beyond the largest finite half (65504) saturated to it
/// (rows of the key/value cache).
void aigc_store_half_saturated(const float *src, uint16_t *dst, int64_t n);
void aigc_bf16_to_f32_row(const uint16_t *src, float *dst, int64_t n);
uint16_t aigc_f32_to_bf16(float f);

// ---- (de)quantization of whole rows ---------------------------------------------------------
/// Dequantizes `n` elements (a multiple of the block size) of `type` into floats. Returns 0, or -1
/// when the type has no dequantizer.
int aigc_dequantize_row(int type, const void *src, float *dst, int64_t n);
/// Quantizes `n` floats (a multiple of the block size) into blocks of `type` with the reference
/// (round-to-nearest) quantizer. Returns 0, or -1 when the type has no quantizer.
int aigc_quantize_row(int type, const float *src, void *dst, int64_t n);

// ---- products with quantized weights --------------------------------------------------------
// A weight row is multiplied with an activation row prepared once per matrix product:
//  - 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) take "Q8A" activations: blocks of
//    { float d; float s = d * sum(q); int8 q[32] };
//  - K-quants (Q2_K..Q6_K) take Q8_K activations: { float d; int8 q[256]; int16 bsums[16] };
//  - F32, F16 and BF16 weights take the floats as they are.
enum aigc_activation_kind { AIGC_ACT_F32 = 0, AIGC_ACT_Q8A = 1, AIGC_ACT_Q8K = 2 };
int aigc_activation_kind(int weight_type);
/// Bytes one prepared activation row of `n` elements occupies for weights of `weight_type`.
int64_t aigc_activation_row_bytes(int weight_type, int64_t n);
/// Prepares (quantizes or copies) `n` floats for products with weights of `weight_type`.
void aigc_prepare_activation(int weight_type, const float *x, void *out, int64_t n);

/// Dot product of one weight row (`n` elements of `weight_type`) with a prepared activation row.
float aigc_vec_dot(int weight_type, const void *w, const void *a, int64_t n);

/// y[t * y_stride + r] = dot(W[r], A[t]) for rows r in [r0, r1) and activation rows t in [0, m).
/// W rows are `w_stride` bytes apart, prepared activation rows `a_stride` bytes apart.
void aigc_matmul_rows(int weight_type, const void *w, int64_t w_stride, int64_t n,
                      const void *a, int64_t a_stride, int64_t m,
                      float *y, int64_t y_stride, int64_t r0, int64_t r1);

// ---- float helpers used by the Swift side ---------------------------------------------------
float aigc_dot_f32(const float *a, const float *b, int64_t n);
/// In-place softmax of n floats; returns log(sum(exp(x))) of the input (for log-probabilities).
float aigc_softmax_f32(float *x, int64_t n);
/// One head of decode attention: scores[t] = scale * q . keys[t] for the n keys (rows `stride`
/// elements apart), softmax over them, out = sum of scores[t] * values[t]. `scores` holds n floats.
/// Cache rows of floats (_f32) or of half floats (_f16).
void aigc_attend_f32(const float *q, const float *keys, const float *values, int64_t stride, int64_t n, int64_t dim, float scale,
                     float *scores, float *out);
void aigc_attend_f16(const float *q, const uint16_t *keys, const uint16_t *values, int64_t stride, int64_t n, int64_t dim, float scale,
                     float *scores, float *out);
/// x[i] = exp(x[i] - max(x)); returns the sum of the new values (softmax before its division).
float aigc_exp_shifted_f32(float *x, int64_t n);
/// gate[i] = silu(gate[i]) * up[i].
void aigc_swiglu_f32(float *gate, const float *up, int64_t n);
/// x = gelu(x), tanh form (GPT-2's gelu_new).
void aigc_gelu_tanh_f32(float *x, int64_t n);
/// x = gelu(x), exact (erf) form (PyTorch's default nn.GELU).
void aigc_gelu_erf_f32(float *x, int64_t n);
/// out[i] = hidden[i] * gelu(gate[i]) (erf form; the GEGLU feed-forward of latent diffusion). `out` may be `hidden`.
void aigc_geglu_f32(float *out, const float *hidden, const float *gate, int64_t n);
/// x = x * sigmoid(x) (SiLU, "swish").
void aigc_silu_f32(float *x, int64_t n);
/// x = 1 / (1 + exp(-x)).
void aigc_sigmoid_f32(float *x, int64_t n);
/// x = tanh(x).
void aigc_tanh_f32(float *x, int64_t n);

/// a[i] = b[i] + scalar * c[i] (STREAM's triad, for measuring memory bandwidth).
/// Prefetches every cache line of [p, p + bytes) into this core's caches.
void aigc_prefetch_bytes(const void *p, int64_t bytes);
void aigc_stream_triad(float *a, const float *b, const float *c, float scalar, int64_t n);

// ---- persistent worker pool -----------------------------------------------------------------
// Tasks are claimed one by one from a shared counter, so the calling thread runs every task no
// worker has claimed: a worker that the OS does not schedule (the other core busy elsewhere)
// delays the caller by at most the task it holds, instead of stalling a barrier.
/// CPUs this process may run on (its affinity mask), at least 1.
int aigc_available_cpus(void);
typedef void (*aigc_task_fn)(void *context, int64_t task, int thread);
typedef struct aigc_pool aigc_pool;
/// A pool of `threads` - 1 workers plus the calling thread; NULL when threads cannot start.
aigc_pool *aigc_pool_create(int threads);
void aigc_pool_destroy(aigc_pool *pool);
int aigc_pool_threads(const aigc_pool *pool);
/// Runs fn(context, task, thread) for task in [0, n_tasks) and returns when all have finished.
/// A call made while the pool is busy (another thread's job, or a nested call) runs inline.
void aigc_pool_run(aigc_pool *pool, int64_t n_tasks, aigc_task_fn fn, void *context);
/// How many times the pool has run jobs on the caller alone because its workers kept it waiting
/// (a worker preempted by another process holds its task for a whole time slice).
int64_t aigc_pool_solo_periods(aigc_pool *pool);

// ---- weights interleaved four rows at a time (dispatch.c) ---------------------------------------
// Four consecutive rows stored block by block ([group][block][row 0..3]; for F16/BF16 a block is 8
// elements; Q4_0/Q4_1 put the four rows' scales before their codes) are one sequential stream for
// the four-row decode kernels, where rows stored one after another are four short streams that the
// hardware prefetcher does not follow.
/// Whether the current SIMD level has four-row kernels for `type` and rows x n can be interleaved.
int aigc_can_interleave_rows4(int type, int64_t rows, int64_t n);
/// Writes the interleaved copy of `rows` rows of n elements (`w_stride` bytes apart) to `out`
/// (rows x row bytes).
void aigc_interleave_rows4(int type, const void *w, int64_t w_stride, int64_t rows, int64_t n, void *out);
/// aigc_matmul_rows on interleaved weights; r0 and r1 are multiples of 4.
void aigc_matmul_rows_interleaved(int weight_type, const void *w, int64_t n, const void *a, int64_t a_stride, int64_t m,
                                  float *y, int64_t y_stride, int64_t r0, int64_t r1);
/// Row `row` of interleaved weights as floats; 0 on success.
int aigc_dequantize_row_interleaved(int type, const void *w, int64_t n, int64_t row, float *out);

// ---- direct convolution (conv_direct.c) -------------------------------------------------------
/// Output channels per register tile of the direct convolution, and positions per tile.
enum { AIGC_CONV_TILE_CHANNELS = 6, AIGC_CONV_TILE_POSITIONS = 16 };
/// Packs [out][in][taps] weights into [ceil(out/6)][in][taps][6], zeros for the missing channels.
void aigc_conv_pack_weights(float *dst, const float *weight, int64_t out, int64_t in, int64_t taps);
/// Stride-1 convolution of a padded input (planes `plane` floats apart, rows `pitch` apart) for
/// channel blocks [block_begin, block_end) and flattened positions [first, first + count):
/// out[(b * 6 + r) * out_stride + p] = sum over c, ky, kx of w * in[c * plane + first + p + ky * pitch + kx].
/// The AVX2 path computes whole tiles of 16 positions: the input needs 16 + kw floats of readable
/// slack past the last position and `out` rows 16 floats past `count`.
void aigc_conv_direct_scalar(float *out, int64_t out_stride, const float *packed, int64_t block_begin, int64_t block_end,
                             const float *in, int64_t plane, int64_t pitch, int64_t channels, int64_t kh, int64_t kw,
                             int64_t first, int64_t count);
void aigc_conv_direct_avx2(float *out, int64_t out_stride, const float *packed, int64_t block_begin, int64_t block_end,
                           const float *in, int64_t plane, int64_t pitch, int64_t channels, int64_t kh, int64_t kw,
                           int64_t first, int64_t count);

#ifdef __cplusplus
}
#endif
#endif
