#!/usr/bin/env bash
# Builds CACHE/initramfs.gz from the unpacked Debian packages (CACHE/k, CACHE/bb): busybox, the
# nvme driver with its dependencies, and an /init driven by the kernel command line
# (vphb.nvme=0 skips loading nvme, vphb.admin_timeout=S shortens nvme's admin timeout). Rebuilt only when this script or the inputs change.
set -euo pipefail
cache="$1"
abi="$(cat "$cache/abi")"
mods="$cache/k/lib/modules/$abi"
stamp="$(cat "$0" "$cache/abi" | sha256sum | cut -c1-16)"
if [ -f "$cache/initramfs.gz" ] && [ "$(cat "$cache/initramfs.stamp" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi
root="$(mktemp -d "$cache/initramfs.XXXXXX")"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,proc,sys,dev,mods,tmp}
cp "$cache/bb/bin/busybox" "$root/bin/busybox"
for a in sh mount insmod echo cat sleep poweroff ls dmesg grep; do ln -s busybox "$root/bin/$a"; done

# nvme.ko and what it depends on, in load order (dependencies first).
order=()
decompress() {
  case "$1" in
    *.xz) xz -dc "$1" ;;
    *.zst) zstd -dcq "$1" ;;
    *) cat "$1" ;;
  esac
}
add_mod() {
  local name="$1" f deps d
  for d in "${order[@]:-}"; do [ "$d" = "$name" ] && return 0; done
  f="$(find "$mods/kernel" -name "$(echo "$name" | sed 's/[-_]/[-_]/g').ko*" | head -n1)"
  [ -n "$f" ] || { echo "e2e-initramfs: module $name not found" >&2; exit 1; }
  # the module's .modinfo strings: depends=a,b (no kmod needed)
  deps="$(decompress "$f" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n1)"
  for d in ${deps//,/ }; do add_mod "$d"; done
  order+=("$name")
  decompress "$f" > "$root/mods/$name.ko"
}
add_mod nvme
printf '%s\n' "${order[@]}" > "$root/mods/order"

cat > "$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo 8 > /proc/sys/kernel/printk
echo "vphb-e2e: init started"
case " $(cat /proc/cmdline) " in
  *" vphb.nvme=0 "*) ;;
  *)
    # vphb.admin_timeout=S: nvme's admin command timeout, so that a probe against a device whose
    # commands never complete gives up (and lets poweroff proceed) after S seconds, not 60.
    at=60
    for w in $(cat /proc/cmdline); do case "$w" in vphb.admin_timeout=*) at="${w#vphb.admin_timeout=}";; esac; done
    for m in $(cat /mods/order); do
      [ "$m" = nvme ] && break
      if [ "$m" = nvme-core ]; then insmod /mods/$m.ko admin_timeout=$at; else insmod /mods/$m.ko; fi
    done
    # nvme's probe blocks until its admin timeout against a device that never completes commands.
    insmod /mods/nvme.ko &
    ;;
esac
wait_s=20
for w in $(cat /proc/cmdline); do case "$w" in vphb.wait=*) wait_s="${w#vphb.wait=}";; esac; done
sleep "$wait_s"
echo "vphb-e2e: done"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$cache/initramfs.gz.tmp"
mv "$cache/initramfs.gz.tmp" "$cache/initramfs.gz"
echo "$stamp" > "$cache/initramfs.stamp"
