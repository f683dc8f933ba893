#!/usr/bin/env bash
# image/mkrootfs.sh: the appliance's base root file system (Debian 13 trixie) with mmdebstrap.
# Only Debian packages: kernel, systemd, nodejs, etcd-server, libfuse2t64, xfsprogs... plus
# openssh-server, which exists only so packer can log in to provision the image and is
# purged by image/provision.sh (the admin console on port 22 is the node's own SSH server).
# Usage: image/mkrootfs.sh ARCH ROOTFS_DIR BUILD_PUBKEY
set -euo pipefail
ARCH="$1"; ROOTFS="$2"; PUBKEY="$3"
HERE="$(cd "$(dirname "$0")" && pwd)"
MIRROR="${OIO_IMAGE_MIRROR:-http://deb.debian.org/debian}"
case "$ARCH" in
  amd64) KERNEL=linux-image-amd64 ;;
  arm64) KERNEL=linux-image-arm64 ;;
  *) echo "unknown arch $ARCH (amd64, arm64)" >&2; exit 2 ;;
esac
PACKAGES=(
  "$KERNEL" systemd-sysv systemd-boot-efi udev dbus kmod iproute2 mount util-linux e2fsprogs
  nodejs etcd-server libfuse2t64 fuse3 xfsprogs openssl
  samba
)
# packer logs in over SSH to provision; finish.sh purges the server again
[ "${OIO_IMAGE_SSHD:-1}" = 1 ] && PACKAGES+=(openssh-server)
rm -rf "$ROOTFS"
# No Recommends (mmdebstrap's default for minbase): nodejs then comes without npm.
mmdebstrap --variant=minbase --arch="$ARCH" \
  --include="$(IFS=,; echo "${PACKAGES[*]}")" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook="\"$HERE/rootfs-hook/base.sh\" \"\$1\" \"$PUBKEY\"" \
  trixie "$ROOTFS" "$MIRROR"
