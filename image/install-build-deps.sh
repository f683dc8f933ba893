#!/usr/bin/env bash
# image/install-build-deps.sh: the Debian packages the appliance image build (image/build.sh),
# its packer template (packer/) and its boot test (npm run test:image, also run by npm test)
# need on the build host.
# Usage: bash image/install-build-deps.sh [arm64]   (as root; arm64 adds the cross-build tools)
set -euo pipefail
ARCH="${1:-amd64}"
# command -> package
NEED=(
  "mmdebstrap mmdebstrap"
  "packer packer"
  "qemu-system-x86_64 qemu-system-x86"
  "qemu-img qemu-utils"
  "mkfs.vfat dosfstools"
  "mcopy mtools"
  "sfdisk fdisk"
  "mke2fs e2fsprogs"
  "zstd zstd"
  "ssh openssh-client"
  "ssh-keygen openssh-client"
  "aws awscli"
  "lftp lftp"
  "nfs-cp libnfs-utils"
  "losetup mount"
  "mkfs.xfs xfsprogs"
  "wipefs util-linux"
  "smbclient smbclient"
  "cc gcc"
)
if [ "$ARCH" = arm64 ]; then
  NEED+=("qemu-aarch64-static qemu-user-static" "update-binfmts binfmt-support" "qemu-system-aarch64 qemu-system-arm" "arch-test arch-test")
fi
missing=()
for line in "${NEED[@]}"; do
  read -r cmd pkg <<<"$line"
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
# firmware files are not commands
[ -f /usr/share/ovmf/OVMF.fd ] || missing+=(ovmf)
if [ "$ARCH" = arm64 ] && [ ! -f /usr/share/AAVMF/AAVMF_CODE.fd ]; then missing+=(qemu-efi-aarch64); fi
if [ ${#missing[@]} -gt 0 ]; then
  printf 'installing: %s\n' "${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u)
fi
