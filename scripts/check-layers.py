#!/usr/bin/env python3
"""Checks that every `import AIGC…` goes down the layers of shared/DESIGN.md (never up or sideways),
that only the top layer imports Hummingbird or ArgumentParser, and that the database drivers (GRDB,
PostgresNIO) stay in AIGCStore and the top layer (STYLE.md puts the store's backends in AIGCStore)."""
import pathlib
import re
import sys

LAYERS = {
    "AIGCKernels": 0, "AIGCTensor": 1,
    "AIGCFormats": 2, "AIGCTokenizers": 2, "AIGCLayers": 2, "AIGCSampling": 2,
    "AIGCModels": 3,
    "AIGCGeneration": 4, "AIGCImaging": 4, "AIGCTraining": 4, "AIGCEvaluation": 4, "AIGCStore": 4,
    "AIGCServer": 5, "aigc": 6,
}
TOP_ONLY = {"Hummingbird", "HummingbirdCore", "HummingbirdTesting", "ArgumentParser"}
STORE_ONLY = {"GRDB", "PostgresNIO"}

root = pathlib.Path(__file__).resolve().parent.parent / "Sources"
problems = []
for target, layer in LAYERS.items():
    for path in sorted((root / target).rglob("*.swift")) if (root / target).exists() else []:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            m = re.match(r"\s*(?:@testable\s+|@_exported\s+)?import\s+(\w+)", line)
            if not m:
                continue
            module = m.group(1)
            where = f"{path.relative_to(root.parent)}:{number}"
            if module in LAYERS and LAYERS[module] >= layer and module != target:
                problems.append(f"{where}: {target} (layer {layer}) imports {module} (layer {LAYERS[module]})")
            if module in TOP_ONLY and layer < 5:
                problems.append(f"{where}: {target} imports {module}, which only the top layer may use")
            if module in STORE_ONLY and layer < 5 and target != "AIGCStore":
                problems.append(f"{where}: {target} imports {module}, which only AIGCStore and the top layer may use")
for p in problems:
    print(p)
print(f"layers: {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
