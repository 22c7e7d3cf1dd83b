#!/usr/bin/env bash
# Regenerates the public benchmark corpus: bench/corpus/tune from bench/corpus-gen/tune.json and
# bench/corpus/test from bench/corpus-gen/test.json (see bench/corpus/README.md).
# Needs espeak-ng, flite, sox, gcc and the espeak-ng and flite headers and libraries:
#   apt-get install -y espeak-ng flite sox gcc libespeak-ng-dev flite1-dev
set -euo pipefail
cd "$(dirname "$0")/../.."
missing=()
for tool in espeak-ng flite sox gcc; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
# A header is there if gcc's preprocessor finds it.
has_header() { command -v gcc >/dev/null && echo "#include <$1>" | gcc -E -x c - -o /dev/null 2>/dev/null; }
has_header espeak-ng/speak_lib.h || missing+=(libespeak-ng-dev)
has_header flite/flite.h || missing+=(flite1-dev)
if ((${#missing[@]})); then
  echo "generate-corpus.sh: missing ${missing[*]} (apt-get install -y ${missing[*]})" >&2
  exit 1
fi
for split in tune test; do
  echo "== bench/corpus/$split"
  npx tsx bench/corpus-gen/generate.ts --spec "bench/corpus-gen/$split.json" --out "bench/corpus/$split"
done
