#!/usr/bin/env bash
# image/stage-app.sh ARCH REPO OUT_TAR: builds the project (tsc) and packs what the appliance
# runs into OUT_TAR: bin/, dist/{appliance,agents,fs-bridge}, the production node_modules
# (native addons built for ARCH), package.json, README.md. No sources, tests or dev tools.
set -euo pipefail
ARCH="$1"; REPO="$(cd "$2" && pwd)"; OUT="$3"
HERE="$(cd "$(dirname "$0")" && pwd)"
STAGE="$(mktemp -d /tmp/oio-stage.XXXXXX)"
trap 'rm -rf "$STAGE"' EXIT
(cd "$REPO" && npx tsc -p tsconfig.json)
A="$STAGE/app"
mkdir -p "$A/dist"
cp -a "$REPO/bin" "$REPO/package.json" "$REPO/README.md" "$A/"
for d in appliance agents fs-bridge; do cp -a "$REPO/dist/$d" "$A/dist/"; done
# production modules only, dereferencing the shared node_modules symlink
node "$HERE/prod-modules.js" "$REPO" > "$STAGE/modules.txt"
(cd "$REPO" && while read -r m; do mkdir -p "$A/$(dirname "$m")"; [ -e "$A/$m" ] || cp -aL "$m" "$A/$m"; done < "$STAGE/modules.txt")
# native addons for another architecture (arm64): image/native-addons.sh built them, fuse-native
# with the utimens fixes of fs-bridge/fuse/native.ts; for this host's architecture, the fixed
# fuse-native is built here into <app>/native (the appliance has no compiler)
if [ -n "${OIO_NATIVE_ADDONS_DIR:-}" ]; then cp -a "$OIO_NATIVE_ADDONS_DIR/." "$A/node_modules/"
else
  (cd "$REPO" && node -e "require('./dist/fs-bridge/fuse/native.js').prepareNative(process.argv[1]).then((w) => { if (w) { console.error('stage-app: ' + w); process.exit(1); } })" "$A/native")
fi
# build leftovers: sqlite sources, object files, other platforms' prebuilds, tests, docs
rm -rf "$A/node_modules/better-sqlite3/deps" "$A/node_modules/better-sqlite3/src" \
       "$A/node_modules/better-sqlite3/build/Release/obj" "$A/node_modules/better-sqlite3/build/Release/obj.target" \
       "$A/node_modules/better-sqlite3/build/Release/"*.a "$A/node_modules/better-sqlite3/build/Release/test_extension.node" \
       "$A/node_modules/better-sqlite3/build/Release/.deps" "$A/node_modules/better-sqlite3/build/deps" \
       "$A/node_modules/fuse-native/test" "$A/node_modules/fuse-native/example.js" "$A/node_modules/fuse-native/prebuilds/darwin-"*
rm -rf "$A/node_modules/fuse-shared-library-linux/example" "$A/node_modules/ssh2/lib/protocol/crypto/build/Release/obj.target" \
       "$A/node_modules/cpu-features/build/Release/obj.target"
if [ -n "${OIO_NATIVE_ADDONS_DIR:-}" ]; then
  # the host's builds of optional addons (ssh2 crypto, cpu-features) are for the host: drop them
  rm -rf "$A/node_modules/ssh2/lib/protocol/crypto/build" "$A/node_modules/cpu-features/build"
fi
case "$ARCH" in
  amd64) rm -rf "$A/node_modules/fuse-native/prebuilds/linux-arm"* ; WANT=62 ;;   # EM_X86_64
  arm64) rm -rf "$A/node_modules/fuse-native/prebuilds/linux-x64" ; WANT=183 ;;   # EM_AARCH64
esac
find "$A" -name '*.ts' ! -name '*.d.ts' -delete
# every native addon must be an ELF for the target machine
while IFS= read -r -d '' so; do
  m=$(od -An -t u2 -j 18 -N 2 "$so" | tr -d ' ')
  if [ "$m" != "$WANT" ]; then echo "stage-app: $so is for ELF machine $m, not $ARCH ($WANT)" >&2; exit 1; fi
done < <(find "$A/node_modules" -name '*.node' -print0)
VERSION="$(node -p "require('$REPO/package.json').version")-$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo local)"
echo "$VERSION" > "$A/VERSION"
tar -C "$A" --owner=0 --group=0 -cf "$OUT" .
echo "stage-app: $OUT ($(du -sh "$A" | cut -f1) unpacked, version $VERSION)"
