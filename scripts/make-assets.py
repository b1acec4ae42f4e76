#!/usr/bin/env python3
"""Make the compact real-data subsets in assets/ from the full data set (../shared/data).

Run from the repository root:  python3 scripts/make-assets.py ../shared/data
Needs PyYAML. Only selects: nothing is rewritten except by dropping versions and lines.
- helm/<repo>.index.yaml: every chart, its 6 newest versions (the files list versions newest first)
- helm/<repo>.readmes.jsonl: copied whole
- cloud/instances.jsonl: every GPU instance type and every 4th other line
"""
import json
import pathlib
import shutil
import sys

import yaml

src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
dst = pathlib.Path("assets")
(dst / "helm").mkdir(parents=True, exist_ok=True)
(dst / "cloud").mkdir(parents=True, exist_ok=True)

for index in sorted((src / "helm").glob("*.index.yaml")):
    doc = yaml.safe_load(index.read_text())
    doc["entries"] = {chart: versions[:6] for chart, versions in doc["entries"].items()}
    with open(dst / "helm" / index.name, "w") as out:
        yaml.safe_dump(doc, out, sort_keys=False, allow_unicode=True, width=120)
    readmes = index.with_name(index.name.replace(".index.yaml", ".readmes.jsonl"))
    if readmes.exists():
        shutil.copy(readmes, dst / "helm" / readmes.name)

kept = []
others = 0
for line in (src / "cloud" / "instances.jsonl").read_text().splitlines():
    row = json.loads(line)
    if row.get("gpu_count"):
        kept.append(line)
    else:
        if others % 4 == 0:
            kept.append(line)
        others += 1
(dst / "cloud" / "instances.jsonl").write_text("\n".join(kept) + "\n")
print(f"{len(kept)} instance lines")
