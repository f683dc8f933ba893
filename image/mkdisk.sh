#!/usr/bin/env bash
# image/mkdisk.sh ARCH ROOTFS OUT_RAW [ROOT_SIZE]: a bootable GPT disk from the root fs folder,
# built from files (no loop device, no mount): a FAT32 EFI system partition with systemd-boot,
# the kernel and initrd (and room for oio-seed.conf), then an ext4 root made by `mke2fs -d`.
set -euo pipefail
ARCH="$1"; ROOTFS="$2"; OUT="$3"; ROOT_SIZE_MIB="${4:-2560}"
ESP_MIB=256
case "$ARCH" in
  amd64) EFI=systemd-bootx64.efi; BOOTEFI=BOOTX64.EFI; CONSOLE=ttyS0 ;;
  arm64) EFI=systemd-bootaa64.efi; BOOTEFI=BOOTAA64.EFI; CONSOLE=ttyAMA0 ;;
esac
W="$(mktemp -d /tmp/oio-disk.XXXXXX)"
trap 'rm -rf "$W"' EXIT
export MTOOLS_SKIP_CHECK=1
mkfs.vfat -F 32 -n ESP -C "$W/esp.img" $((ESP_MIB * 1024)) >/dev/null
mmd -i "$W/esp.img" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries
mcopy -i "$W/esp.img" "$ROOTFS/usr/lib/systemd/boot/efi/$EFI" "::/EFI/BOOT/$BOOTEFI"
mcopy -i "$W/esp.img" "$(ls "$ROOTFS"/boot/vmlinuz-* | tail -1)" ::/vmlinuz
mcopy -i "$W/esp.img" "$(ls "$ROOTFS"/boot/initrd.img-* | tail -1)" ::/initrd.img
printf 'default oio.conf\ntimeout 0\n' > "$W/loader.conf"
printf 'title oio appliance\nlinux /vmlinuz\ninitrd /initrd.img\noptions root=LABEL=oio-root rw console=tty0 console=%s quiet\n' "$CONSOLE" > "$W/oio.conf"
cat > "$W/seed" <<'SEED'
# oio appliance first-boot seed: uncomment and edit before the first boot.
# With nothing set, the appliance forms a single-node grid (namespace OPENIO).
#hostname=oio-node-1
#namespace=OPENIO
#ip=192.0.2.10
#admin_key=ssh-ed25519 AAAA... you@laptop
#etcd_endpoints=192.0.2.10:2379,192.0.2.11:2379,192.0.2.12:2379
#etcd_member=true
#etcd_initial_cluster=etcd-192.0.2.10=http://192.0.2.10:2380,etcd-192.0.2.11=http://192.0.2.11:2380,etcd-192.0.2.12=http://192.0.2.12:2380
#s3_access_key=demo
#s3_secret_key=change-me-please
#console_report=0
SEED
mcopy -i "$W/esp.img" "$W/loader.conf" ::/loader/loader.conf
mcopy -i "$W/esp.img" "$W/oio.conf" ::/loader/entries/oio.conf
mcopy -i "$W/esp.img" "$W/seed" ::/oio-seed.conf
mke2fs -q -t ext4 -L oio-root -E root_owner=0:0 -d "$ROOTFS" "$W/root.img" "${ROOT_SIZE_MIB}M"
rm -f "$OUT"
truncate -s $((1 + ESP_MIB + ROOT_SIZE_MIB + 1))M "$OUT"
sfdisk -q "$OUT" <<PT
label: gpt
start=1MiB, size=${ESP_MIB}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=ESP
start=$((1 + ESP_MIB))MiB, size=${ROOT_SIZE_MIB}MiB, type=L, name=oio-root
PT
dd if="$W/esp.img" of="$OUT" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$W/root.img" of="$OUT" bs=1M seek=$((1 + ESP_MIB)) conv=notrunc,sparse status=none
echo "mkdisk: $OUT ($(du -h --apparent-size "$OUT" | cut -f1) apparent, $(du -h "$OUT" | cut -f1) used)"
