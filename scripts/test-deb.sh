#!/usr/bin/env bash
# Builds the Debian package and tries it as a new user would, in a minimal Debian 12 root made with
# debootstrap: `apt-get install ./kvscope_*.deb` must pull in everything, then the CLI runs from /,
# man finds both pages, the desktop entry validates and the window writes a screenshot under Xvfb.
# Needs root and the Debian mirror; takes minutes, so it is not part of scripts/test.sh.
#   bash scripts/test-deb.sh [BUILD_DIR]      (default: build/, as scripts/build.sh makes it)
# MIRROR=URL overrides the mirror read from /etc/apt/sources.list{,.d/*}. The window's screenshot
# is copied to BUILD_DIR/deb-screenshot.png.
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
start=$SECONDS
stage() { echo "== test-deb: $* (+$((SECONDS - start)) s)"; }
[ "$(id -u)" -eq 0 ] || { echo "test-deb: needs root (debootstrap, mount, chroot)" >&2; exit 2; }
[ -f "$build/CPackConfig.cmake" ] || { echo "test-deb: $build is not a configured build (bash scripts/build.sh)" >&2; exit 2; }
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap

# The Debian mirror this machine installs bookworm from: a deb822 stanza whose Suites has
# "bookworm", or a one-line "deb URI bookworm ..." entry.
find_mirror() {
  shopt -s nullglob
  awk 'BEGIN {RS = ""} /(^|\n)Suites:[^\n]*[ \t]bookworm([ \t]|\n|$)/ {
         if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { u = substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", u); print u; exit }
       }' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
  sed -E 's/\[[^]]*\][ \t]*//' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }'
  return 0
}
mirror=${MIRROR:-$(find_mirror | sed -n 1p)}
[ -n "$mirror" ] || { echo "test-deb: no bookworm mirror in /etc/apt/sources.list*; set MIRROR=" >&2; exit 2; }

stage "cpack -G DEB in $build"
cmake --build "$build" >/dev/null   # up to date first (CMAKE_BUILD_PARALLEL_LEVEL sets the jobs)
deb=$(cd "$build" && cpack -G DEB | sed -n 's/^CPack: - package: \(.*\.deb\) generated\.$/\1/p')
[ -f "$deb" ] || { echo "test-deb: cpack wrote no .deb" >&2; exit 1; }
echo "$(basename "$deb"): $(du -k "$deb" | cut -f1) KiB"
dpkg-deb --field "$deb" Depends Section Installed-Size

root=$(mktemp -d /tmp/kvscope-deb-root.XXXXXX)
chmod 755 "$root"   # apt downloads as _apt, who must reach the root's /var/cache
cleanup() {
  for m in "$root/proc" "$root/dev/pts"; do mountpoint -q "$m" && umount -l "$m"; done
  # Never delete through a mount that is still there.
  if grep -q " $root/" /proc/mounts; then echo "test-deb: left $root (still mounted)" >&2; else rm -rf "$root"; fi
}
trap cleanup EXIT

stage "debootstrap --variant=minbase bookworm from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 ||
  { tail -n 20 "$root.log"; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
mount -t proc proc "$root/proc"
mkdir -p "$root/dev/pts" && mount -t devpts devpts "$root/dev/pts"
cp "$deb" "$root/tmp/"

stage "inside the new root: apt-get install ./$(basename "$deb") and try it"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  DEBIAN_FRONTEND=noninteractive /bin/bash -euo pipefail -c '
    cd /tmp
    apt-get update -qq
    apt-get install -y -qq ./kvscope_*.deb >/tmp/apt.log || { tail -n 30 /tmp/apt.log; exit 1; }
    echo "installed: $(dpkg-query -W -f="\${Package} \${Version}" kvscope), $(dpkg -l | grep -c ^ii) packages in the root"
    cd /
    out=$(kvscope-cli generate --prompt Time --max-new-tokens 2)
    echo "$out" | tail -n 1
    echo "$out" | grep -qx "text: Time flies fast"
    apt-get install -y -qq --no-install-recommends man-db desktop-file-utils xvfb xauth >/tmp/apt.log
    echo "man -w: $(man -w kvscope) $(man -w kvscope-cli)"
    MANPAGER=cat MANWIDTH=80 man kvscope-cli 2>/dev/null | grep -q "generate options:"
    desktop-file-validate /usr/share/applications/kvscope.desktop && echo "desktop-file-validate: ok"
    test -s /usr/share/icons/hicolor/scalable/apps/kvscope.svg
    xvfb-run -a -s "-screen 0 1920x1080x24" kvscope --steps 2 --screenshot /tmp/out.png
    [ "$(head -c 8 /tmp/out.png | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ]
    echo "screenshot: /tmp/out.png, $(wc -c </tmp/out.png) bytes, PNG"
  '
cp "$root/tmp/out.png" "$build/deb-screenshot.png"
stage "passed; screenshot copied to $build/deb-screenshot.png"
