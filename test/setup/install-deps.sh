#!/usr/bin/env bash
# Installs what the test suite and benchmarks need from Debian (idempotent).
# Called by `npm test` (pretest) and `npm run bench`. Needs root for apt-get; without it,
# says which packages are missing and how to install them.
set -euo pipefail

# command -> Debian package
declare -A NEED=(
  [fio]=fio
  [mkfs.xfs]=xfsprogs
  [losetup]=mount
  [etcd]=etcd-server
  [ssh]=openssh-client
  [ssh-keygen]=openssh-client
  [sftp]=openssh-client
  [scp]=openssh-client
  [nfs-ls]=libnfs-utils
  [fusermount]=fuse
  [rsync]=rsync
  [sqlite3]=sqlite3
  [lftp]=lftp
  [git]=git
  [openssl]=openssl
  [cc]=gcc
  [aws]=awscli
  [s3cmd]=s3cmd
  [rclone]=rclone
  [curl]=curl
  [mkfs.ext4]=e2fsprogs
  [sfdisk]=fdisk
  [wipefs]=util-linux
  [blkid]=util-linux
  [lsblk]=util-linux
  [findmnt]=util-linux
)

missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: missing Debian packages: ${pkgs[*]}" >&2
  echo "install-deps: run as root: apt-get update && apt-get install -y ${pkgs[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1; then
  apt-get update >/dev/null
  apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null || {
    echo "install-deps: apt-get could not install ${pkgs[*]}; install them by hand and retry" >&2
    exit 1
  }
fi
