#!/usr/bin/env bash
# Opens a report page in headless Chromium (Debian's `chromium`) as a reader would: the page must
# render (a DOM comes back), run without a script error, and its visible text must hold every
# expected string (the key numbers).
#   tests/reports/check_page.sh PAGE.html [EXPECTED TEXT]...
set -euo pipefail
page=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v chromium >/dev/null || { echo "check_page: chromium is not installed (scripts/setup installs it)" >&2; exit 1; }
# --no-sandbox: tests may run as root, where Chromium's sandbox refuses to start.
if ! timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" \
  --enable-logging=stderr --v=0 --dump-dom "file://$(realpath "$page")" >"$work/dom.html" 2>"$work/log"; then
  echo "check_page: $page: Chromium failed: $(tail -3 "$work/log")" >&2
  exit 1
fi
grep -q "</html>" "$work/dom.html" || { echo "check_page: $page: no page came back" >&2; exit 1; }
if grep ":CONSOLE" "$work/log" | grep -qiE "uncaught|error"; then
  echo "check_page: $page: script errors:" >&2
  grep ":CONSOLE" "$work/log" >&2
  exit 1
fi
# The visible text: scripts and styles dropped, tags removed, entities of numbers kept as written.
text=$(sed -e 's/<script[^>]*>.*<\/script>//g' -e 's/<style[^>]*>.*<\/style>//g' "$work/dom.html" |
  tr '\n' ' ' | sed -e 's/<[^>]*>/ /g' -e 's/&amp;/\&/g' -e 's/&lt;/</g' -e 's/&gt;/>/g' | tr -s ' ')
for expected in "$@"; do
  if [[ $text != *"$expected"* ]]; then
    echo "check_page: $page: the text lacks '$expected'" >&2
    exit 1
  fi
done
echo "check_page: $page renders without script errors and holds $# expected strings"
