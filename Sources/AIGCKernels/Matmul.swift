// Float matrix products through OpenBLAS (cblas_sgemm), for prefill and other many-row products.
import COpenBLAS

/// C[m, n] = A[m, k] · B[n, k]ᵀ (+ C when `accumulate`), all row-major: the layout of activations
/// times a weight matrix stored [out, in].
public func matmulTransposedB(into c: FloatPointer, _ a: ConstFloatPointer, _ b: ConstFloatPointer,
                              m: Int, n: Int, k: Int, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil, accumulate: Bool = false) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                1, a, Int32(lda ?? k), b, Int32(ldb ?? k), accumulate ? 1 : 0, c, Int32(ldc ?? n))
}

/// C[m, n] = A[m, k] · B[k, n] (+ C when `accumulate`), row-major.
public func matmul(into c: FloatPointer, _ a: ConstFloatPointer, _ b: ConstFloatPointer,
                   m: Int, n: Int, k: Int, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil, accumulate: Bool = false) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                1, a, Int32(lda ?? k), b, Int32(ldb ?? n), accumulate ? 1 : 0, c, Int32(ldc ?? n))
}

/// C[m, n] = A[k, m]ᵀ · B[k, n] (+ C when `accumulate`), row-major: A is read by columns, as for
/// a weight stored [in, out] (ConvTranspose2d's [in, out * kH * kW]).
public func matmulTransposedA(into c: FloatPointer, _ a: ConstFloatPointer, _ b: ConstFloatPointer,
                              m: Int, n: Int, k: Int, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil, accumulate: Bool = false) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                1, a, Int32(lda ?? m), b, Int32(ldb ?? n), accumulate ? 1 : 0, c, Int32(ldc ?? n))
}

/// C[m, n] = alpha · op(A) · op(B) (+ C when `accumulate`), row-major, where op transposes when asked:
/// A is [m, k] (or [k, m] transposed), B is [k, n] (or [n, k] transposed). The general form, for
/// products whose operands are read in other layouts (channel-major images against token rows,
/// attention scores scaled by 1/sqrt(d)).
public func gemm(into c: FloatPointer, _ a: ConstFloatPointer, transposeA: Bool, _ b: ConstFloatPointer, transposeB: Bool,
                 m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int, alpha: Float = 1, accumulate: Bool = false) {
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), accumulate ? 1 : 0, c, Int32(ldc))
}
