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
# SMB only (no NetBIOS, no AD domain controller); smbd starts after the FUSE mount it shares
for u in nmbd.service samba-ad-dc.service; do chroot "$R" systemctl mask "$u" || true; done
# packer logs in as root with the build key; provision.sh removes key and sshd again.
install -d -m 700 "$R/root/.ssh"
install -m 600 "$PUBKEY" "$R/root/.ssh/authorized_keys"
# A storage appliance needs no sound, video capture, wireless, GPU or staging drivers: out of
# the modules tree and the initramfs (module files are compressed: they dominate the image).
for K in "$R"/usr/lib/modules/*/kernel; do
  rm -rf "$K/sound" "$K/drivers/media" "$K/drivers/staging" "$K/drivers/net/wireless" "$K/drivers/iio" \
         "$K/drivers/comedi" "$K/drivers/isdn" "$K/drivers/bluetooth" "$K/net/bluetooth" "$K/net/mac80211" \
         "$K/net/wireless" "$K/drivers/gpu/drm/amd" "$K/drivers/gpu/drm/nouveau" "$K/drivers/gpu/drm/i915" \
         "$K/drivers/gpu/drm/xe" "$K/drivers/gpu/drm/radeon" "$K/drivers/infiniband" "$K/drivers/input/touchscreen" \
         "$K/drivers/input/joystick" "$K/drivers/hid/intel-ish-hid"
  chroot "$R" depmod "$(basename "$(dirname "$K")")"
done
chroot "$R" update-initramfs -u -k all
rm -rf "$R/var/lib/apt/lists/"* "$R/var/cache/apt/"*.bin
