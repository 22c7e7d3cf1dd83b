#!/usr/bin/env bash
# Regenerates the public benchmark corpus (bench/corpus) from bench/corpus-gen/spec.json.
# Needs espeak-ng and sox (apt-get install -y espeak-ng sox).
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "generate-corpus.sh: $tool is required (apt-get install -y espeak-ng sox)" >&2; exit 1; }
done
npx tsx bench/corpus-gen/generate.ts --spec bench/corpus-gen/spec.json --out bench/corpus
