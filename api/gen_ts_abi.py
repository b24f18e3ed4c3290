#!/usr/bin/env python3
"""Checks api/exports.txt against api/cairn_api.h and writes the TypeScript twin of the ABI.

usage: gen_ts_abi.py HEADER EXPORTS OUT.ts

Every function the header declares must be in the export list and nothing else may be: a
mismatch fails the build, naming the symbol. The status codes and the ABI version reach
TypeScript from here, never copied by hand.
"""
import re
import sys


def main(header_path, exports_path, out_path):
    header = open(header_path, encoding="utf-8").read()
    body = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
    declared = set(re.findall(r"\b(cairn_[a-z0-9_]+)\s*\(", body))
    exported = set()
    for line in open(exports_path, encoding="utf-8"):
        line = line.strip()
        if line:
            if not line.startswith("_cairn_"):
                sys.exit(f"{exports_path}: '{line}' is not a cairn_ function")
            exported.add(line[1:])
    missing = sorted(declared - exported)
    extra = sorted(exported - declared)
    if missing or extra:
        sys.exit(f"{exports_path} does not match {header_path}: "
                 f"not exported {missing}, exported but not declared {extra}")

    codes = re.findall(r"#define CAIRN_([A-Z_]+) (\d+)", body)
    statuses = [(name, int(v)) for name, v in codes if name != "ABI_VERSION"]
    abi = dict(codes)["ABI_VERSION"]
    out = [
        "// Generated from api/cairn_api.h by api/gen_ts_abi.py. Do not edit.",
        "",
        f"export const ABI_VERSION = {abi};",
        "",
        "export const Status = {",
    ]
    out += [f"  {name}: {value}," for name, value in statuses]
    out += ["} as const;", "",
            "/** Stable lower-case names of the status codes, as they cross postMessage. */",
            "export type StatusName ="]
    out += [f"  | '{name.lower()}'" for name, _ in statuses]
    out[-1] += ";"
    out += ["", "export const STATUS_NAMES: Record<number, StatusName> = {"]
    out += [f"  {value}: '{name.lower()}'," for name, value in statuses]
    out += ["};", "", "export const EXPORTS = ["]
    out += [f"  '{name}'," for name in sorted(declared)]
    out += ["] as const;", ""]
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
