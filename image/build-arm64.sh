#!/usr/bin/env bash
# image/build-arm64.sh: the arm64 appliance image, cross-built on an amd64 host through
# qemu-user (binfmt). Slower than amd64 (dpkg and the addon compilers run emulated):
#   1. native addons built in an arm64 trixie chroot (image/native-addons.sh)
#   2. image/build.sh arm64 with them, provisioned in a chroot (OIO_IMAGE_PACKER=0: packer's
#      qemu builder would boot an emulated arm64 guest just to run provision.sh)
# Output: ${OIO_IMAGE_OUT:-/tmp/oio-image}/arm64/oio-appliance-arm64.raw(.zst).
# OIO_NATIVE_ADDONS_ONLY="fuse-native" rebuilds only the addons named, keeping the others from
# the last build in $OUT/addons (better-sqlite3 alone compiles for about half an hour emulated).
# Boot it: image/boot-arm64.sh (qemu-system-aarch64 -cpu cortex-a72: Node crashes under -cpu max).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${OIO_IMAGE_OUT:-/tmp/oio-image}/arm64"
mkdir -p "$OUT"
bash "$HERE/install-build-deps.sh" arm64 >/dev/null
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable qemu-aarch64 || true
arch-test arm64
T0=$(date +%s)
"$HERE/native-addons.sh" arm64 "$OUT/addons"
echo "build-arm64: native addons in $(( $(date +%s) - T0 )) s"
OIO_IMAGE_PACKER=0 OIO_NATIVE_ADDONS_DIR="$OUT/addons" "$HERE/build.sh" arm64
echo "build-arm64: total $(( $(date +%s) - T0 )) s"
