#!/bin/sh
# image/finish.sh [--no-poweroff]: last step of the build inside the target. Removes what only
# the build needed (OpenSSH server, packer's key) and everything that must be unique per
# machine, so each appliance makes its own at first boot: machine id, admin console host key
# (made by the node on first start in /var/lib/oio/admin-ssh), random seeds, logs.
set -u
export DEBIAN_FRONTEND=noninteractive
if dpkg -s openssh-server >/dev/null 2>&1; then
  dpkg --purge openssh-server openssh-sftp-server openssh-client >/dev/null 2>&1 || dpkg --purge openssh-server openssh-sftp-server
fi
rm -rf /root/.ssh /etc/ssh/ssh_host_* /tmp/oio-provision
find /var/lib/oio -mindepth 1 -delete
rm -f /etc/oio/oio.json /etc/oio/console-report
rm -f /var/lib/systemd/random-seed /var/lib/systemd/credential.secret /var/lib/dbus/machine-id
rm -rf /var/log/journal/* /var/cache/apt/* /var/lib/apt/lists/* /tmp/* /var/tmp/*
# "uninitialized": systemd makes a new machine id at first boot and runs ConditionFirstBoot units
echo uninitialized > /etc/machine-id
if mountpoint -q /boot/efi; then
  mount -o remount,rw /boot/efi && rm -f /boot/efi/loader/random-seed
  # the EFI partition boots its own copies of kernel and initrd: drop the root fs's
  if [ -f /boot/efi/vmlinuz ] && [ -f /boot/efi/initrd.img ]; then rm -f /boot/vmlinuz-* /boot/initrd.img-* /boot/System.map-*; fi
fi
sync
if [ "${1:-}" != --no-poweroff ]; then
  fstrim -v / || true
  systemctl poweroff
fi
