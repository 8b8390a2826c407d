"""The development CA and the mesh's certificates: mivaa_cli.localmesh.certs from the command line.

python tools/make_certs.py --out .mivaa/certs [--services extractor,search,embedder,ocr,answer] [--days 825] [--force]
"""

from __future__ import annotations

import sys

from mivaa_cli.localmesh.certs import main

if __name__ == "__main__":
    sys.exit(main())
