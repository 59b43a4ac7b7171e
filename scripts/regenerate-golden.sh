#!/usr/bin/env bash
# Rewrite the golden output folders (Tests/ReportsTests/Golden) from the current
# sources, then print what changed against the last commit, so that an intended
# change of girfec's outputs is reviewed and committed with the code that made
# it (docs/testing.md). Nothing else is changed; commit Golden/ yourself.
set -euo pipefail
cd "$(dirname "$0")/.."
golden=Tests/ReportsTests/Golden
GIRFEC_REGENERATE_GOLDEN=1 swift test --filter ReportsTests
echo
echo "== Changes in $golden (against HEAD):"
git status --short -- "$golden"
git --no-pager diff --stat -- "$golden"
git --no-pager diff -- "$golden"
# New files are not in `git diff` until added: name them.
git ls-files --others --exclude-standard -- "$golden" | while read -r file; do
  if grep -Iq . "$file"; then echo "new file: $file ($(wc -l <"$file") lines)"; else echo "new file: $file ($(wc -c <"$file") bytes, binary)"; fi
done
