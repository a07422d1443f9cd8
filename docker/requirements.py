"""Print the requirements an image installs, read from pyproject.toml: the core dependencies,
or with ``--extra NAME`` those of one optional extra.

Installing them in a layer of their own, before the source is copied in, keeps the slow part
of a build (ns-3's cppyy compiles for minutes) cached while the source changes.
"""

from __future__ import annotations

import argparse
import tomllib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pyproject", help="path of pyproject.toml")
    parser.add_argument("--extra", help="an optional-dependency extra instead of the core set")
    args = parser.parse_args()
    with open(args.pyproject, "rb") as handle:
        project = tomllib.load(handle)["project"]
    if args.extra is None:
        requirements = project["dependencies"]
    else:
        extras = project.get("optional-dependencies", {})
        if args.extra not in extras:
            raise SystemExit(f"requirements.py: pyproject.toml has no extra {args.extra!r}; "
                             f"expected one of {', '.join(sorted(extras))}")
        requirements = extras[args.extra]
    print("\n".join(requirements))


if __name__ == "__main__":
    main()
