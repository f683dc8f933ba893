#!/usr/bin/env bash
# image/build.sh ARCH: builds the oio appliance disk image (Debian 13 trixie, UEFI, GPT).
#   1. the project (tsc) and its production files, native addons for ARCH  (stage-app.sh)
#   2. the base root fs from Debian packages with mmdebstrap                (mkrootfs.sh)
#   3. a bootable GPT disk from it, built from files                         (mkdisk.sh)
#   4. packer boots that disk (qemu, TCG) and provisions the application    (packer/*.json,
#      provision.sh, finish.sh); OIO_IMAGE_PACKER=0 provisions in a chroot instead
#   5. the raw disk is made sparse and compressed with zstd
# Output in ${OIO_IMAGE_OUT:-/tmp/oio-image}/ARCH: oio-appliance-ARCH.raw(.zst), build-report.txt.
# The base root fs is reused while mkrootfs.sh and rootfs-hook/ are unchanged
# (OIO_IMAGE_REBUILD_BASE=1 forces it).
set -euo pipefail
ARCH="${1:-amd64}"
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
OUT="${OIO_IMAGE_OUT:-/tmp/oio-image}/$ARCH"
USE_PACKER="${OIO_IMAGE_PACKER:-1}"
NAME="oio-appliance-$ARCH"
mkdir -p "$OUT"
T0=$(date +%s)
REPORT="$OUT/build-report.txt"
: > "$REPORT"
step() { local now; now=$(date +%s); echo "build: [$((now - T0)) s] $*" | tee -a "$REPORT"; }

bash "$HERE/install-build-deps.sh" "$ARCH" >/dev/null
[ -f "$OUT/key" ] || ssh-keygen -q -t ed25519 -N '' -C oio-image-build -f "$OUT/key"

step "stage application"
"$HERE/stage-app.sh" "$ARCH" "$REPO" "$OUT/app.tar"
tar -C "$HERE/overlay" --owner=0 --group=0 -cf "$OUT/overlay.tar" .

STAMP="$(cat "$HERE/mkrootfs.sh" "$HERE"/rootfs-hook/* "$OUT/key.pub" | sha256sum | cut -c1-16)-$USE_PACKER"
if [ "${OIO_IMAGE_REBUILD_BASE:-0}" = 1 ] || [ ! -f "$OUT/rootfs.stamp" ] || [ "$(cat "$OUT/rootfs.stamp")" != "$STAMP" ]; then
  step "base root fs (mmdebstrap trixie $ARCH)"
  rm -f "$OUT/rootfs.stamp"
  OIO_IMAGE_SSHD="$USE_PACKER" "$HERE/mkrootfs.sh" "$ARCH" "$OUT/rootfs" "$OUT/key.pub" > "$OUT/mkrootfs.log" 2>&1 || { tail -30 "$OUT/mkrootfs.log"; exit 1; }
  echo "$STAMP" > "$OUT/rootfs.stamp"
else
  step "base root fs reused ($OUT/rootfs)"
fi

if [ "$USE_PACKER" = 1 ]; then
  step "base disk"
  "$HERE/mkdisk.sh" "$ARCH" "$OUT/rootfs" "$OUT/base.raw"
  step "packer: boot the base disk, provision the application"
  rm -rf "$OUT/packer-out"
  cat > "$OUT/packer-vars.json" <<VARS
{ "base_disk": "$OUT/base.raw", "output_dir": "$OUT/packer-out", "vm_name": "$NAME.raw",
  "ssh_key": "$OUT/key", "app_tar": "$OUT/app.tar", "overlay_tar": "$OUT/overlay.tar", "image_dir": "$HERE" }
VARS
  mkdir -p "$OUT/packer-home"
  HOME="$OUT/packer-home" PACKER_CACHE_DIR="$OUT/packer-home/cache" CHECKPOINT_DISABLE=1 PACKER_NO_COLOR=1 \
    packer build -color=false -var-file="$OUT/packer-vars.json" "$REPO/packer/appliance-$ARCH.json" > "$OUT/packer.log" 2>&1 &
  PACKER_PID=$!
  tail -n +1 -f --pid=$PACKER_PID "$OUT/packer.log" | grep --line-buffered -E 'provision:|Provisioning|rror' || true
  wait $PACKER_PID || { echo "packer failed: $OUT/packer.log" >&2; tail -20 "$OUT/packer.log" >&2; exit 1; }
  [ -f "$OUT/packer-out/$NAME.raw" ] || { echo "packer made no disk: $OUT/packer.log" >&2; exit 1; }
  mv -f "$OUT/packer-out/$NAME.raw" "$OUT/$NAME.raw"
  fallocate --dig-holes "$OUT/$NAME.raw"
  rm -f "$OUT/base.raw"
else
  step "provision in a chroot"
  R="$OUT/rootfs-final"
  rm -rf "$R"; cp -a "$OUT/rootfs" "$R"
  mkdir -p "$R/tmp/oio-provision"
  cp "$OUT/app.tar" "$OUT/overlay.tar" "$HERE/provision.sh" "$HERE/finish.sh" "$R/tmp/oio-provision/"
  mount -t proc proc "$R/proc"
  trap 'umount "$R/proc" 2>/dev/null || true' EXIT
  chroot "$R" /bin/sh /tmp/oio-provision/provision.sh
  chroot "$R" /bin/sh /tmp/oio-provision/finish.sh --no-poweroff
  umount "$R/proc"
  step "disk"
  "$HERE/mkdisk.sh" "$ARCH" "$R" "$OUT/$NAME.raw"
  rm -rf "$R"
fi

step "compress (zstd)"
rm -f "$OUT/$NAME.raw.zst"
zstd -q -T0 -${OIO_IMAGE_ZSTD_LEVEL:-12} --sparse "$OUT/$NAME.raw" -o "$OUT/$NAME.raw.zst"
T1=$(date +%s)
{
  echo "image: $OUT/$NAME.raw.zst"
  echo "build_seconds: $((T1 - T0))"
  echo "raw_bytes: $(stat -c %s "$OUT/$NAME.raw")"
  echo "raw_used_bytes: $(( $(du -B1 "$OUT/$NAME.raw" | cut -f1) ))"
  echo "compressed_bytes: $(stat -c %s "$OUT/$NAME.raw.zst")"
} | tee -a "$REPORT"
MAX=$((300 * 1024 * 1024))
if [ "$(stat -c %s "$OUT/$NAME.raw.zst")" -gt "$MAX" ]; then echo "build: compressed image over 300 MiB" >&2; exit 1; fi
