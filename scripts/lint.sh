#!/usr/bin/env bash
# Style and package checks, run by scripts/test.sh before the tests (docs/testing.md):
#   1. swift-format's rules as .swift-format enables them (`swift format lint`);
#   2. no tab and no trailing whitespace in Swift files;
#   3. every target in Package.swift lists exactly the modules its files import
#      (scripts/check-imports.py).
# swift-format also reports where its own layout (indentation, line breaks, line
# length, trailing commas, spacing) differs from the file's, and has no setting to
# turn that off; girfec's layout is its own (continuation lines aligned under the
# opening bracket, short statements sharing a line), so those findings are left out
# here. Every finding of 1–3 is listed, and any fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Sources Tests Package.swift)
layout='\[(Indentation|AddLines|RemoveLine|LineLength|TrailingComma|Spacing|TrailingWhitespace|EndOfLineComment)\]'
failed=0

status=0
findings="$(swift format lint --strict --parallel --configuration .swift-format --recursive "${paths[@]}" 2>&1)" || status=$?
rules="$(printf '%s\n' "$findings" | grep -Ev "$layout" | sed '/^$/d' || true)"
if [ -n "$rules" ]; then
  echo "lint: swift format lint (.swift-format) found:" >&2
  printf '%s\n' "$rules" >&2
  failed=1
elif [ "$status" -ne 0 ] && ! grep -Eq "$layout" <<<"$findings"; then
  echo "lint: swift format lint exited with status $status without a finding" >&2
  failed=1
fi

if whitespace="$(grep -rnP --include='*.swift' '\t| +$' "${paths[@]}")"; then
  echo "lint: tabs or trailing whitespace (indent with 4 spaces; end lines without spaces):" >&2
  printf '%s\n' "$whitespace" >&2
  failed=1
fi

"${PYTHON:-python3}" scripts/check-imports.py || failed=1

if [ "$failed" -ne 0 ]; then
  echo "lint: failed; see above (docs/testing.md)" >&2
  exit 1
fi
echo "lint: swift-format rules, whitespace and package imports all pass"
