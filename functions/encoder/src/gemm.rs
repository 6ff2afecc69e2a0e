//! `c = a @ b` for a weight matrix `b` known at load time.
//!
//! A sentence has a handful of tokens, so the products are short and wide;
//! a general GEMM re-packs the weight matrix on every call, which then costs
//! as much as the arithmetic. On x86-64 with AVX2 and FMA the weights are
//! packed once, at load, into 16-column strips that the kernel streams
//! sequentially. Elsewhere (aarch64 Lambda) matrixmultiply's kernels run on
//! the row-major matrix.

/// A `k x n` weight matrix, in the layout the available kernel wants.
pub(crate) struct Matrix {
    k: usize,
    n: usize,
    /// Row-major, or 16-column strips each `k x 16` row-major when `packed`.
    data: Vec<f32>,
    packed: bool,
}

const STRIP: usize = 16;
/// Rows of `a` per register tile.
#[cfg(target_arch = "x86_64")]
const TILE_ROWS: usize = 4;
/// Rows of `a` kept hot in cache while the strips stream past.
#[cfg(target_arch = "x86_64")]
const ROW_BLOCK: usize = 64;

fn have_kernel() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl Matrix {
    /// From row-major data of length `k * n`; packed for the SIMD kernel
    /// when `simd` is asked for and the CPU has it.
    pub fn new(k: usize, n: usize, row_major: Vec<f32>, simd: bool) -> Self {
        assert_eq!(row_major.len(), k * n, "matrix data length");
        Self::with_kernel(k, n, row_major, simd && have_kernel())
    }

    fn with_kernel(k: usize, n: usize, row_major: Vec<f32>, kernel: bool) -> Self {
        if !kernel || !n.is_multiple_of(STRIP) {
            return Self {
                k,
                n,
                data: row_major,
                packed: false,
            };
        }
        let mut data = Vec::with_capacity(k * n);
        for strip in (0..n).step_by(STRIP) {
            for p in 0..k {
                data.extend_from_slice(&row_major[p * n + strip..p * n + strip + STRIP]);
            }
        }
        Self {
            k,
            n,
            data,
            packed: true,
        }
    }
}

/// `c[m x n] (row stride ldc) = a[m x k] (row stride lda) @ b`.
pub(crate) fn gemm(m: usize, a: &[f32], lda: usize, b: &Matrix, c: &mut [f32], ldc: usize) {
    let (k, n) = (b.k, b.n);
    if m == 0 {
        return;
    }
    assert!(lda >= k && ldc >= n, "gemm strides");
    assert!(a.len() >= (m - 1) * lda + k, "gemm: a too short");
    assert!(c.len() >= (m - 1) * ldc + n, "gemm: c too short");
    #[cfg(target_arch = "x86_64")]
    if b.packed {
        for start in (0..m).step_by(ROW_BLOCK) {
            let rows = (m - start).min(ROW_BLOCK);
            packed_block(rows, &a[start * lda..], lda, b, &mut c[start * ldc..], ldc);
        }
        return;
    }
    // SAFETY: the asserts above keep every index the kernel touches inside
    // the slices (b.data is k x n row-major); c does not alias a or b.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            lda as isize,
            1,
            b.data.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            ldc as isize,
            1,
        );
    }
}

/// Up to ROW_BLOCK rows against every strip of a packed matrix.
#[cfg(target_arch = "x86_64")]
fn packed_block(m: usize, a: &[f32], lda: usize, b: &Matrix, c: &mut [f32], ldc: usize) {
    let k = b.k;
    // A row tail shorter than the tile runs on a zero-padded copy.
    let full = m / TILE_ROWS * TILE_ROWS;
    let mut tail_a = Vec::new();
    let mut tail_c = [0f32; TILE_ROWS * STRIP];
    if full < m {
        tail_a = vec![0f32; TILE_ROWS * k];
        for r in full..m {
            let dst = (r - full) * k;
            tail_a[dst..dst + k].copy_from_slice(&a[r * lda..r * lda + k]);
        }
    }
    for (s, strip) in b.data.chunks_exact(k * STRIP).enumerate() {
        let col = s * STRIP;
        for r in (0..full).step_by(TILE_ROWS) {
            // SAFETY: AVX2 and FMA are present (the matrix was packed only
            // then); rows r..r+4 of a hold k values each, c has room for
            // 4 rows of 16 at col, strip holds k x 16.
            unsafe {
                kernel::tile4x16(
                    k,
                    a[r * lda..].as_ptr(),
                    lda,
                    strip.as_ptr(),
                    c[r * ldc + col..].as_mut_ptr(),
                    ldc,
                )
            };
        }
        if full < m {
            // SAFETY: as above, on the padded 4 x k copy and a 4 x 16 buffer.
            unsafe {
                kernel::tile4x16(
                    k,
                    tail_a.as_ptr(),
                    k,
                    strip.as_ptr(),
                    tail_c.as_mut_ptr(),
                    STRIP,
                )
            };
            for r in full..m {
                let src = (r - full) * STRIP;
                c[r * ldc + col..r * ldc + col + STRIP].copy_from_slice(&tail_c[src..src + STRIP]);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use std::arch::x86_64::*;

    /// `c[4 x 16] = a[4 x k] @ strip[k x 16]`, accumulators in registers
    /// (written out by hand: the release profile optimizes for size and
    /// would not unroll a loop over rows).
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn tile4x16(
        k: usize,
        a: *const f32,
        lda: usize,
        strip: *const f32,
        c: *mut f32,
        ldc: usize,
    ) {
        let (a0, a1, a2, a3) = (a, a.add(lda), a.add(2 * lda), a.add(3 * lda));
        let mut c00 = _mm256_setzero_ps();
        let mut c01 = _mm256_setzero_ps();
        let mut c10 = _mm256_setzero_ps();
        let mut c11 = _mm256_setzero_ps();
        let mut c20 = _mm256_setzero_ps();
        let mut c21 = _mm256_setzero_ps();
        let mut c30 = _mm256_setzero_ps();
        let mut c31 = _mm256_setzero_ps();
        for p in 0..k {
            let b0 = _mm256_loadu_ps(strip.add(p * 16));
            let b1 = _mm256_loadu_ps(strip.add(p * 16 + 8));
            let x = _mm256_set1_ps(*a0.add(p));
            c00 = _mm256_fmadd_ps(x, b0, c00);
            c01 = _mm256_fmadd_ps(x, b1, c01);
            let x = _mm256_set1_ps(*a1.add(p));
            c10 = _mm256_fmadd_ps(x, b0, c10);
            c11 = _mm256_fmadd_ps(x, b1, c11);
            let x = _mm256_set1_ps(*a2.add(p));
            c20 = _mm256_fmadd_ps(x, b0, c20);
            c21 = _mm256_fmadd_ps(x, b1, c21);
            let x = _mm256_set1_ps(*a3.add(p));
            c30 = _mm256_fmadd_ps(x, b0, c30);
            c31 = _mm256_fmadd_ps(x, b1, c31);
        }
        _mm256_storeu_ps(c, c00);
        _mm256_storeu_ps(c.add(8), c01);
        _mm256_storeu_ps(c.add(ldc), c10);
        _mm256_storeu_ps(c.add(ldc + 8), c11);
        _mm256_storeu_ps(c.add(2 * ldc), c20);
        _mm256_storeu_ps(c.add(2 * ldc + 8), c21);
        _mm256_storeu_ps(c.add(3 * ldc), c30);
        _mm256_storeu_ps(c.add(3 * ldc + 8), c31);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random values in [-1, 1).
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut x = seed.wrapping_mul(2_654_435_761).max(1);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x as f32 / u32::MAX as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// Both layouts, row tails, more rows than a block, a width that cannot
    /// be packed, strided a and c: all against the plain triple loop.
    #[test]
    fn gemm_matches_the_definition() {
        let shapes = [
            (1, 7, 16),
            (2, 33, 32),
            (3, 64, 48),
            (5, 40, 320),
            (11, 512, 256),
            (70, 20, 32),
            (4, 9, 10),
        ];
        for &(m, k, n) in &shapes {
            for kernel in [false, have_kernel()] {
                let (lda, ldc) = (k + 3, n + 5);
                let a = values(m * lda, 1);
                let b_rows = values(k * n, 2);
                let b = Matrix::with_kernel(k, n, b_rows.clone(), kernel);
                let mut c = vec![f32::NAN; m * ldc];
                gemm(m, &a, lda, &b, &mut c, ldc);
                for i in 0..m {
                    for j in 0..n {
                        let want: f64 = (0..k)
                            .map(|p| f64::from(a[i * lda + p]) * f64::from(b_rows[p * n + j]))
                            .sum();
                        let got = f64::from(c[i * ldc + j]);
                        assert!(
                            (got - want).abs() < 1e-4,
                            "{m}x{k}x{n} packed={} [{i},{j}]: {got} vs {want}",
                            b.packed
                        );
                    }
                }
            }
        }
    }
}
