#!/usr/bin/env bash
# Checks docs/DESIGN.md's Layering on every #include "dir/..." of our product code:
#   common/ includes nothing of ours; worker/, coordinator/, mock/ and analysis/ include common/
#   (and their own folder) only; cli/ may include everything, and is the only folder that may
#   include analysis/. (tests/ and bench/ are not product code.)
# Prints every forbidden include as FILE:LINE: the include and the rule it breaks, and exits 1 if
# there is any; exits 0 when the layering holds.
#
#   scripts/check-layering.sh [ROOT]     ROOT: the source tree (default: this script's tree)
set -euo pipefail
root=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}
cd "$root"

dirs=()
for d in common worker coordinator mock analysis cli; do [ -d "$d" ] && dirs+=("$d"); done
files=$(find "${dirs[@]}" -type f \( -name '*.cpp' -o -name '*.h' -o -name '*.hpp' -o -name '*.cc' \) 2>/dev/null | sort || true)
if [ -z "$files" ]; then
  echo "check-layering: no product source found under $root" >&2
  exit 2
fi
# One pass: every include of one of our folders, as FILE:LINE:TEXT, judged by awk.
# shellcheck disable=SC2086
{ grep -nHE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(common|worker|coordinator|mock|analysis|cli)/' $files || true; } |
  awk -v n="$(wc -l <<< "$files")" '
    BEGIN {
      allow["common"] = " common ";
      allow["worker"] = " worker common "; allow["coordinator"] = " coordinator common ";
      allow["mock"] = " mock common "; allow["analysis"] = " analysis common ";
      allow["cli"] = " cli common worker coordinator mock analysis ";
      rule["common"] = "common/ includes nothing of ours";
      bad = 0;
    }
    {
      file = $0; sub(/:.*/, "", file);
      rest = substr($0, length(file) + 2);
      line = rest; sub(/:.*/, "", line);
      text = substr(rest, length(line) + 2); sub(/^[ \t]+/, "", text);
      from = file; sub(/\/.*/, "", from);
      to = text; sub(/^#[ \t]*include[ \t]*"/, "", to); sub(/\/.*/, "", to);
      if (index(allow[from], " " to " ") == 0) {
        r = (from in rule) ? rule[from] : from "/ includes common/ only (and itself)";
        printf "%s:%s: %s -- %s (docs/DESIGN.md, Layering)\n", file, line, text, r;
        bad = 1;
      }
    }
    END {
      if (!bad) printf "check-layering: %d files, every include within the layering\n", n;
      exit bad;
    }'
