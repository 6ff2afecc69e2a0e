//! Model weights as laid out by `fetch-model.sh`.
//!
//! `table.u8`: the embedding table, one 512-byte row of 6-bit values per piece
//! id, memory-mapped so that opening costs nothing and only the rows of
//! looked-up pieces are ever paged in; row `r` dequantizes with the scale and
//! offset of chunk `r % 17` (the reference's per-chunk quantization).
//!
//! `dense.bin`: the small dense layers, read into memory. Format, all
//! little-endian: magic `USEM3F32`, u32 tensor count, then per tensor: u32
//! name length, name (UTF-8), u32 ndim, ndim x u32 dims, f32 data row-major.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use memmap2::Mmap;

use crate::error::EncoderError;

pub(crate) const EMB_DIM: usize = 512;
pub(crate) const CNN_DIM: usize = 256;
pub(crate) const FEAT_DIM: usize = EMB_DIM + 3 * CNN_DIM;
pub(crate) const HIDDEN: usize = 320;
pub(crate) const CHUNKS: usize = 17;
pub(crate) const TABLE_ROWS: usize = CHUNKS * 7530;
/// (n-gram order, left context) of the three CNN branches.
pub(crate) const ORDERS: [(usize, usize); 3] = [(2, 0), (3, 1), (5, 2)];

pub(crate) struct Weights {
    table: Mmap,
    pub scale: Vec<f32>,
    pub lo: Vec<f32>,
    /// proj2 | proj3 | proj5 side by side: 512 x 768.
    pub proj_w: Vec<f32>,
    pub proj_b: Vec<f32>,
    pub ln_g_all: Vec<f32>,
    pub ln_b_all: Vec<f32>,
    /// Per branch: (n * 256) x 256 and bias 256.
    pub w1: [Vec<f32>; 3],
    pub b1: [Vec<f32>; 3],
    pub w2: [Vec<f32>; 3],
    pub b2: [Vec<f32>; 3],
    pub ln_g: Vec<f32>,
    pub ln_b: Vec<f32>,
    pub cnn_w: Vec<f32>,
    pub cnn_b: Vec<f32>,
    pub d0: Vec<f32>,
    pub d1: Vec<f32>,
    pub p1: Vec<f32>,
    pub d2: Vec<f32>,
    pub p3: Vec<f32>,
    pub d3: Vec<f32>,
    pub eps: f32,
}

struct Tensors {
    map: HashMap<String, (Vec<usize>, Vec<f32>)>,
}

impl Tensors {
    fn parse(bytes: &[u8]) -> Result<Self, String> {
        let mut pos = 8;
        if bytes.get(..8) != Some(b"USEM3F32") {
            return Err("bad magic".into());
        }
        let u32_at = |pos: &mut usize| -> Result<usize, String> {
            let b = bytes.get(*pos..*pos + 4).ok_or("truncated")?;
            *pos += 4;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        let count = u32_at(&mut pos)?;
        let mut map = HashMap::with_capacity(count);
        for _ in 0..count {
            let name_len = u32_at(&mut pos)?;
            let name = bytes.get(pos..pos + name_len).ok_or("truncated name")?;
            let name = String::from_utf8(name.to_vec()).map_err(|_| "name not UTF-8")?;
            pos += name_len;
            let ndim = u32_at(&mut pos)?;
            let dims = (0..ndim)
                .map(|_| u32_at(&mut pos))
                .collect::<Result<Vec<_>, _>>()?;
            let n: usize = dims.iter().product();
            let data = bytes
                .get(pos..pos + 4 * n)
                .ok_or_else(|| format!("tensor {name} truncated"))?;
            pos += 4 * n;
            let values = data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            map.insert(name, (dims, values));
        }
        Ok(Self { map })
    }

    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
        let (dims, values) = self
            .map
            .remove(name)
            .ok_or_else(|| format!("tensor {name} missing"))?;
        if dims != shape {
            return Err(format!(
                "tensor {name} has shape {dims:?}, expected {shape:?}"
            ));
        }
        Ok(values)
    }
}

impl Weights {
    pub fn open(dir: &Path) -> Result<Self, EncoderError> {
        let table_path = dir.join("table.u8");
        let file = File::open(&table_path).map_err(|e| EncoderError::io(&table_path, e))?;
        // SAFETY: the map is read-only and the file belongs to the deployed
        // model (a Lambda layer is read-only); nothing truncates it while we run.
        let table = unsafe { Mmap::map(&file) }.map_err(|e| EncoderError::io(&table_path, e))?;
        if table.len() != TABLE_ROWS * EMB_DIM {
            return Err(EncoderError::malformed(
                &table_path,
                format!("{} bytes, expected {}", table.len(), TABLE_ROWS * EMB_DIM),
            ));
        }
        let dense_path = dir.join("dense.bin");
        let bytes = std::fs::read(&dense_path).map_err(|e| EncoderError::io(&dense_path, e))?;
        Self::from_parts(table, &bytes).map_err(|r| EncoderError::malformed(&dense_path, r))
    }

    fn from_parts(table: Mmap, dense: &[u8]) -> Result<Self, String> {
        let mut t = Tensors::parse(dense)?;
        let mut proj_w = vec![0f32; EMB_DIM * 3 * CNN_DIM];
        let mut proj_b = Vec::with_capacity(3 * CNN_DIM);
        let mut ln_g_all = Vec::with_capacity(3 * CNN_DIM);
        let mut ln_b_all = Vec::with_capacity(3 * CNN_DIM);
        let (mut w1, mut b1, mut w2, mut b2) = (
            <[Vec<f32>; 3]>::default(),
            <[Vec<f32>; 3]>::default(),
            <[Vec<f32>; 3]>::default(),
            <[Vec<f32>; 3]>::default(),
        );
        for (i, (n, _)) in ORDERS.iter().enumerate() {
            let proj = t.take(&format!("proj{n}"), &[EMB_DIM, CNN_DIM])?;
            for (r, row) in proj.chunks_exact(CNN_DIM).enumerate() {
                let at = r * 3 * CNN_DIM + i * CNN_DIM;
                proj_w[at..at + CNN_DIM].copy_from_slice(row);
            }
            proj_b.extend(t.take(&format!("proj_b{n}"), &[CNN_DIM])?);
            ln_g_all.extend(t.take(&format!("ln_g{n}"), &[CNN_DIM])?);
            ln_b_all.extend(t.take(&format!("ln_b{n}"), &[CNN_DIM])?);
            w1[i] = t.take(&format!("w1_{n}"), &[n * CNN_DIM, CNN_DIM])?;
            b1[i] = t.take(&format!("b1_{n}"), &[CNN_DIM])?;
            w2[i] = t.take(&format!("w2_{n}"), &[n * CNN_DIM, CNN_DIM])?;
            b2[i] = t.take(&format!("b2_{n}"), &[CNN_DIM])?;
        }
        // np.ascontiguousarray makes the 0-d eps one element long
        let eps = t.take("eps", &[1])?[0];
        Ok(Self {
            table,
            scale: t.take("scale", &[CHUNKS])?,
            lo: t.take("lo", &[CHUNKS])?,
            proj_w,
            proj_b,
            ln_g_all,
            ln_b_all,
            w1,
            b1,
            w2,
            b2,
            ln_g: t.take("ln_g", &[FEAT_DIM])?,
            ln_b: t.take("ln_b", &[FEAT_DIM])?,
            cnn_w: t.take("cnn_W", &[FEAT_DIM, EMB_DIM])?,
            cnn_b: t.take("cnn_b", &[EMB_DIM])?,
            d0: t.take("d0", &[EMB_DIM, HIDDEN])?,
            d1: t.take("d1", &[HIDDEN, HIDDEN])?,
            p1: t.take("p1", &[EMB_DIM, HIDDEN])?,
            d2: t.take("d2", &[HIDDEN, EMB_DIM])?,
            p3: t.take("p3", &[HIDDEN, EMB_DIM])?,
            d3: t.take("d3", &[EMB_DIM, EMB_DIM])?,
            eps,
        })
    }

    /// Writes the dequantized embedding of piece `id` into `out` (512 long).
    pub fn embedding_row(&self, id: u32, out: &mut [f32]) {
        let id = id as usize;
        let row = &self.table[id * EMB_DIM..(id + 1) * EMB_DIM];
        let (scale, lo) = (self.scale[id % CHUNKS], self.lo[id % CHUNKS]);
        for (o, &q) in out.iter_mut().zip(row) {
            // two roundings, as the reference's `emb *= scale; emb += lo`
            *o = f32::from(q) * scale + lo;
        }
    }
}
