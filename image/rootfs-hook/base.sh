#!/usr/bin/env bash
# image/rootfs-hook/base.sh: mmdebstrap customize hook of the base root fs (runs on the host,
# $1 = the root fs). Boot config only; the application comes with image/provision.sh.
set -euo pipefail
R="$1"; PUBKEY="$2"
echo oio-node > "$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\toio-node\n' > "$R/etc/hosts"
cat > "$R/etc/fstab" <<'FSTAB'
LABEL=oio-root / ext4 defaults,noatime 0 1
LABEL=ESP /boot/efi vfat ro,nofail,umask=0077 0 2
FSTAB
mkdir -p "$R/boot/efi"
mkdir -p "$R/etc/systemd/network"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n' > "$R/etc/systemd/network/20-wired.network"
chroot "$R" systemctl enable systemd-networkd
# The node runs its own etcd member (appliance/runtime/etcd-member.ts): not Debian's unit.
chroot "$R" systemctl disable etcd.service || true
chroot "$R" systemctl mask etcd.service
# packer logs in as root with the build key; provision.sh removes key and sshd again.
install -d -m 700 "$R/root/.ssh"
install -m 600 "$PUBKEY" "$R/root/.ssh/authorized_keys"
rm -rf "$R/var/lib/apt/lists/"* "$R/var/cache/apt/"*.bin
