#!/usr/bin/env bash
# Fetches what the QEMU end-to-end suite (test/e2e) boots: Debian's ppc64el kernel and
# busybox-static, unpacked under the cache directory, plus the busybox initramfs built from them.
# Idempotent: a second run downloads nothing and rebuilds nothing.
#   cache: ${XDG_CACHE_HOME:-$HOME/.cache}/vphb-e2e
# Needs root for dpkg --add-architecture / apt-get update (only the first time).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/vphb-e2e"
mkdir -p "$cache/debs"
export DEBIAN_FRONTEND=noninteractive

need_tools=()
command -v qemu-system-ppc64 >/dev/null || need_tools+=(qemu-system-ppc)
command -v cpio >/dev/null || need_tools+=(cpio)
if [ ${#need_tools[@]} -gt 0 ]; then
  apt-get install -y --no-install-recommends "${need_tools[@]}"
fi

# Everything already unpacked (a previous run): no apt at all. Remove the cache directory (or
# run with VPHB_E2E_REFRESH=1) to pick up a newer kernel.
if [ "${VPHB_E2E_REFRESH:-0}" != 1 ] && [ -f "$cache/abi" ] && [ -f "$cache/k/boot/vmlinux-$(cat "$cache/abi")" ] && [ -x "$cache/bb/bin/busybox" ]; then
  bash "$here/e2e-initramfs.sh" "$cache"
  echo "setup-e2e: cached kernel $cache/k/vmlinux ($(cat "$cache/abi")), initramfs $cache/initramfs.gz"
  exit 0
fi

if ! dpkg --print-foreign-architectures | grep -qx ppc64el; then
  dpkg --add-architecture ppc64el
  apt-get update
elif ! apt-cache show linux-image-powerpc64le:ppc64el >/dev/null 2>&1; then
  apt-get update
fi

# The meta-package names the current kernel ABI, e.g. linux-image-6.1.0-35-powerpc64le.
kpkg="$(apt-cache depends linux-image-powerpc64le:ppc64el \
  | sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*-powerpc64le\).*/\1/p' | head -n1)"
if [ -z "$kpkg" ]; then
  echo "setup-e2e: cannot resolve the kernel ABI from linux-image-powerpc64le:ppc64el" >&2
  exit 1
fi
abi="${kpkg#linux-image-}"

fetch() { # package -> .deb in $cache/debs (downloaded once)
  local pkg="$1"
  if ! ls "$cache/debs/${pkg}_"*_ppc64el.deb >/dev/null 2>&1; then
    (cd "$cache/debs" && apt-get download "${pkg}:ppc64el") >&2
  fi
  ls "$cache/debs/${pkg}_"*_ppc64el.deb | head -n1
}
kdeb="$(fetch "$kpkg")"
bdeb="$(fetch busybox-static)"

if [ ! -f "$cache/k/boot/vmlinux-$abi" ]; then
  rm -rf "$cache/k.tmp" && dpkg-deb -x "$kdeb" "$cache/k.tmp" && rm -rf "$cache/k" && mv "$cache/k.tmp" "$cache/k"
fi
if [ ! -x "$cache/bb/bin/busybox" ]; then
  rm -rf "$cache/bb.tmp" && dpkg-deb -x "$bdeb" "$cache/bb.tmp" && rm -rf "$cache/bb" && mv "$cache/bb.tmp" "$cache/bb"
fi
ln -sfn "boot/vmlinux-$abi" "$cache/k/vmlinux"
echo "$abi" > "$cache/abi"

bash "$here/e2e-initramfs.sh" "$cache"
echo "setup-e2e: kernel $cache/k/vmlinux ($abi), initramfs $cache/initramfs.gz"
