"""Regenerate the Python modules of the ``.proto`` files in this folder.

    python protos/generate.py          # writes the *_pb2.py / *_pb2.pyi files
    python protos/generate.py --check  # exit 1 if a committed file is stale

Needs ``grpcio-tools`` (a ``test`` extra). The generated files are committed so that users do
not need protoc; ``tests/workload/test_chakra.py`` runs ``--check`` so they never drift from the schema.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import sys
import tempfile

PROTOS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(PROTOS)
# schema -> package folder that holds its generated module
TARGETS = {"chakra_et.proto": os.path.join(ROOT, "orchestrator", "workload"),
           "cosim.proto": os.path.join(ROOT, "orchestrator", "cosim")}


def generate(proto: str, out_dir: str) -> list[str]:
    from grpc_tools import protoc

    args = ["protoc", f"-I{PROTOS}", f"--python_out={out_dir}", f"--pyi_out={out_dir}",
            os.path.join(PROTOS, proto)]
    if protoc.main(args) != 0:
        raise SystemExit(f"protoc failed on {proto}")
    stem = proto[:-len(".proto")]
    return [f"{stem}_pb2.py", f"{stem}_pb2.pyi"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    stale = []
    for proto, target in TARGETS.items():
        if not args.check:
            generate(proto, target)
            continue
        with tempfile.TemporaryDirectory() as scratch:
            for name in generate(proto, scratch):
                committed = os.path.join(target, name)
                if not os.path.exists(committed) or not filecmp.cmp(
                        os.path.join(scratch, name), committed, shallow=False):
                    stale.append(committed)
    for path in stale:
        print(f"stale generated file: {path} (run python protos/generate.py)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
