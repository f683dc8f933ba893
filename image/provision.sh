#!/bin/sh
# image/provision.sh: installs the application into the appliance (run as root inside the
# target: by packer over SSH in the booted base image, or by build.sh in a chroot).
# Expects /tmp/oio-provision/{app.tar,overlay.tar}. Application: /opt/oio/releases/<version>,
# /opt/oio/current -> it (upgrades swap that symlink: image/upgrade.sh). Config /etc/oio,
# data /var/lib/oio and data disks /srv/oio are never inside the application folder.
set -eu
P=/tmp/oio-provision
mkdir -p /opt/oio/releases /etc/oio /var/lib/oio /srv/oio
TMP=$(mktemp -d /opt/oio/releases/.new.XXXXXX)
tar -C "$TMP" -xf "$P/app.tar"
VERSION=$(cat "$TMP/VERSION")
rm -rf "/opt/oio/releases/$VERSION"
mv "$TMP" "/opt/oio/releases/$VERSION"
chmod 755 "/opt/oio/releases/$VERSION"
ln -sfn "releases/$VERSION" /opt/oio/current.new && mv -T /opt/oio/current.new /opt/oio/current
tar -C / --no-same-owner -xf "$P/overlay.tar"
chmod 700 /var/lib/oio
# The native addons must load with this system's node (ABI) and libraries.
cd /opt/oio/current
node -e "
const Db = require('better-sqlite3'); const db = new Db(':memory:'); db.prepare('select 1').get();
require('@ronomon/reed-solomon'); require('fuse-native');
console.log('provision: node', process.version, 'abi', process.versions.modules, 'native addons load');
"
node bin/oio config reference >/dev/null
systemctl enable oio-firstboot.service oio-disks.service oio-node.service oio-console-report.service
[ -x /usr/sbin/smbd ] && systemctl enable oio-fuse.service smbd.service
echo "provision: oio $VERSION installed"
