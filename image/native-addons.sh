#!/usr/bin/env bash
# image/native-addons.sh ARCH OUT_DIR: builds the project's native addons for ARCH in a Debian
# trixie chroot of that architecture (qemu-user through binfmt for a foreign one), against
# trixie's own nodejs headers, and copies the results into OUT_DIR laid out like node_modules
# (stage-app.sh overlays them with OIO_NATIVE_ADDONS_DIR). Compilers stay in this builder
# chroot, never in the image. Addons: better-sqlite3, @ronomon/reed-solomon, fuse-native
# (linked to the system's libfuse2). ssh2's optional crypto binding is left out (ssh2 falls
# back to Node's crypto).
set -euo pipefail
ARCH="$1"; OUTDIR="$2"
HERE="$(cd "$(dirname "$0")" && pwd)"; REPO="$(cd "$HERE/.." && pwd)"
B="${OIO_IMAGE_OUT:-/tmp/oio-image}/$ARCH/addon-builder"
MIRROR="${OIO_IMAGE_MIRROR:-http://deb.debian.org/debian}"
if [ "$ARCH" != "$(dpkg --print-architecture)" ]; then
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  update-binfmts --enable "qemu-$( [ "$ARCH" = arm64 ] && echo aarch64 || echo "$ARCH")" || true
  arch-test "$ARCH"
fi
if [ ! -x "$B/usr/bin/node" ] || [ ! -x "$B/usr/bin/node-gyp" ]; then
  rm -rf "$B"
  mmdebstrap --variant=minbase --arch="$ARCH" --include=nodejs,libnode-dev,node-gyp,build-essential,python3,libfuse-dev,pkgconf \
    trixie "$B" "$MIRROR"
fi
rm -rf "$B/build"; mkdir -p "$B/build/node_modules/@ronomon"
for m in better-sqlite3 @ronomon/reed-solomon fuse-native napi-macros node-gyp-build bindings file-uri-to-path; do
  [ -d "$REPO/node_modules/$m" ] && cp -aL "$REPO/node_modules/$m" "$B/build/node_modules/$m"
done
rm -rf "$B/build/node_modules/better-sqlite3/build" "$B/build/node_modules/fuse-native/prebuilds" "$B/build/node_modules/fuse-native/build"
rm -f "$B/build/node_modules/@ronomon/reed-solomon/binding.node"
# fuse-native's utimens fixes (fs-bridge/fuse/native.ts: C_FIXES), applied to the source built here
[ -f "$REPO/dist/fs-bridge/fuse/native.js" ] || (cd "$REPO" && npx tsc -p tsconfig.json)
node -e "const fs = require('fs'); const f = process.argv[2]; const fixed = require(process.argv[1]).fixedFuseNativeSource(fs.readFileSync(f, 'utf8')); if (fixed) fs.writeFileSync(f, fixed)" \
  "$REPO/dist/fs-bridge/fuse/native.js" "$B/build/node_modules/fuse-native/fuse-native.c"
# fuse-native against the system libfuse2 instead of its bundled x86-64 copy
cat > "$B/build/node_modules/fuse-native/binding.gyp" <<'GYP'
{ "targets": [{ "target_name": "fuse",
  "include_dirs": ["<!(node -e \"require('napi-macros')\")", "/usr/include/fuse"],
  "libraries": ["-lfuse"], "defines": ["_FILE_OFFSET_BITS=64", "FUSE_USE_VERSION=29"],
  "sources": ["fuse-native.c"], "cflags": ["-O2", "-Wall"] }] }
GYP
mount -t proc proc "$B/proc" 2>/dev/null || true
trap 'umount "$B/proc" 2>/dev/null || true' EXIT
# OIO_NATIVE_ADDONS_ONLY="fuse-native": rebuild only those, keeping the others already in
# OUTDIR (better-sqlite3 alone takes about half an hour to compile under qemu-user).
ONLY="${OIO_NATIVE_ADDONS_ONLY:-better-sqlite3 @ronomon/reed-solomon fuse-native}"
for m in $ONLY; do
  echo "native-addons: building $m for $ARCH"
  chroot "$B" sh -c "cd /build/node_modules/$m && node-gyp rebuild --release --nodedir=/usr >/tmp/gyp.log 2>&1 || { tail -40 /tmp/gyp.log; exit 1; }"
done
[ -n "${OIO_NATIVE_ADDONS_ONLY:-}" ] || rm -rf "$OUTDIR"
PLAT="linux-$( [ "$ARCH" = arm64 ] && echo arm64 || echo x64)"
for m in $ONLY; do
  case "$m" in
    better-sqlite3) rm -rf "$OUTDIR/$m"; mkdir -p "$OUTDIR/$m/build/Release"
      cp "$B/build/node_modules/$m/build/Release/better_sqlite3.node" "$OUTDIR/$m/build/Release/" ;;
    @ronomon/reed-solomon) rm -rf "$OUTDIR/$m"; mkdir -p "$OUTDIR/$m"
      cp "$B/build/node_modules/$m/build/Release/binding.node" "$OUTDIR/$m/binding.node" ;;
    fuse-native) rm -rf "$OUTDIR/$m"; mkdir -p "$OUTDIR/$m/prebuilds/$PLAT"
      cp "$B/build/node_modules/$m/build/Release/fuse.node" "$OUTDIR/$m/prebuilds/$PLAT/node.napi.node"
      # the corrected source goes along, so that the runtime sees the prebuild is already fixed
      cp "$B/build/node_modules/$m/fuse-native.c" "$OUTDIR/$m/fuse-native.c" ;;
  esac
done
echo "native-addons: $OUTDIR"; find "$OUTDIR" -name '*.node'
