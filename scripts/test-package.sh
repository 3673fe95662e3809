#!/usr/bin/env bash
# CTest "package.install": installs the build into a temporary prefix and checks what a user gets:
# both programs, a desktop entry that validates, the icon, man pages that name every subcommand and
# option --help prints, and a CLI that runs from /.
#   test-package.sh BUILD_DIR WITH_GUI(ON|OFF)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: test-package.sh BUILD_DIR WITH_GUI" >&2; exit 2; }
build=$1
case "$2" in ON|on|1|TRUE|true|YES|yes) gui=1 ;; *) gui=0 ;; esac
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

cmake --install "$build" --prefix "$prefix" >/dev/null
expected=(bin/kvscope-cli share/man/man1/kvscope-cli.1.gz)
[ "$gui" -eq 1 ] && expected+=(bin/kvscope share/man/man1/kvscope.1.gz share/applications/kvscope.desktop
                               share/icons/hicolor/scalable/apps/kvscope.svg)
for f in "${expected[@]}"; do
  [ -s "$prefix/$f" ] || fail "cmake --install did not write $f"
done

if [ "$gui" -eq 1 ]; then
  desktop-file-validate "$prefix/share/applications/kvscope.desktop" || fail "desktop entry does not validate"
  grep -q '<svg' "$prefix/share/icons/hicolor/scalable/apps/kvscope.svg" || fail "icon is not an SVG"
fi

# The man page's text with roff escapes removed: "\fB\-\-prompt\fR" reads "--prompt".
man_text() { gzip -dc "$1" | sed -e 's/\\-/-/g' -e 's/\\f[A-Z]//g' -e 's/\\[,/]//g'; }
# The part of a man page under the subsection heading $2 (up to the next heading).
man_section() { man_text "$1" | awk -v h="$2" '/^\.S[HS] / {on = index($0, h) > 0; next} on'; }
# Option names a --help text lists ("  --prompt TEXT ..." -> --prompt; "-h,--help" -> --help).
help_options() { grep -oE '^  (-[a-zA-Z],)?--[a-z0-9-]+' | sed -E 's/^  (-[a-zA-Z],)?//'; }
# Checks that every option PROGRAM ARGS --help lists is in the man page's subsection HEADING.
check_options() {
  local page=$1 heading=$2 program=$3; shift 3
  local section options
  section=$(man_section "$page" "$heading")
  options=$(cd / && "$program" "$@" --help | help_options)
  [ -n "$options" ] || fail "$(basename "$program") $* --help lists no options"
  for opt in $options; do
    grep -qF -- "$opt" <<<"$section" || fail "$(basename "$page"): '$heading' lacks $opt"
  done
}

cli=$prefix/bin/kvscope-cli
cli_page=$prefix/share/man/man1/kvscope-cli.1.gz
subcommands=$("$cli" --help | awk '/^Subcommands:/ {on = 1; next} on && /^  [^ ]/ {print $1}')
[ -n "$subcommands" ] || fail "kvscope-cli --help lists no subcommands"
for sub in $subcommands; do
  man_section "$cli_page" "Subcommands:" | grep -qx "$sub" || fail "kvscope-cli(1) does not list subcommand $sub"
  check_options "$cli_page" "$sub options:" "$cli" "$sub"
done
[ "$gui" -eq 1 ] && check_options "$prefix/share/man/man1/kvscope.1.gz" OPTIONS "$prefix/bin/kvscope"

# Run from / so nothing can come from the source or build tree.
out=$(cd / && "$cli" generate --prompt Time --max-new-tokens 2)
grep -qx "text: Time flies fast" <<<"$out" || fail "installed kvscope-cli printed: $out"

[ "$failures" -eq 0 ] || { echo "test-package: $failures failure(s)"; exit 1; }
echo "test-package: install tree, desktop entry, man pages ($(wc -w <<<"$subcommands") subcommands) and CLI from / all good"
