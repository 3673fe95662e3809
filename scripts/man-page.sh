#!/usr/bin/env bash
# Writes a program's gzipped man page from its --help (help2man), so the page says what the binary
# says. A program with subcommands (kvscope-cli) gets every subcommand's options as a subsection.
# Run by the build (scripts/packaging.cmake):
#   man-page.sh BINARY NAME VERSION SUMMARY SEE_ALSO OUT.1.gz
set -euo pipefail
[ $# -eq 6 ] || { echo "usage: man-page.sh BINARY NAME VERSION SUMMARY SEE_ALSO OUT.1.gz" >&2; exit 2; }
binary=$(realpath "$1") name=$2 version=$3 summary=$4 see_also=$5 out=$6
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# help2man runs "NAME --help": this stand-in runs the binary under that name (usage lines read
# "kvscope-cli generate", not a build path), then appends each subcommand's help with its headings
# renamed "generate options:" and so on, which help2man turns into subsections.
cat > "$work/$name" <<'WRAPPER'
#!/usr/bin/env bash
set -euo pipefail
[ "${1:-}" = --help ] || exit 2
help() { (exec -a "$MAN_NAME" "$MAN_BINARY" "$@" --help); }
help
for sub in $(help | awk '/^Subcommands:/ {on = 1; next} on && /^  [^ ]/ {print $1}'); do
  # The first line repeats the Subcommands list; "Options:" becomes "generate options:".
  help "$sub" | sed -e '1d' -e '/^Usage: /d' -e '/^$/d' -e "s/^\(Positionals\|Options\):/\n$sub \L\1:/"
done
WRAPPER
chmod +x "$work/$name"

printf '[SEE ALSO]\n.BR %s (1)\n' "$see_also" > "$work/include.h2m"
MAN_NAME=$name MAN_BINARY=$binary PATH="$work:$PATH" \
  help2man --no-info --section 1 --manual "User Commands" --version-string "$version" \
  --name "$summary" --include "$work/include.h2m" --output "$work/$name.1" "$name"
mkdir -p "$(dirname "$out")"
gzip -9 -n -c "$work/$name.1" > "$out"
