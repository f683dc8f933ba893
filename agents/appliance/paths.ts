/**
 * @module agents/appliance/paths
 * Where the appliance keeps things: configuration in /etc/oio, data in /var/lib/oio, data
 * disks under /srv/oio, the application in /opt/oio/current (a symlink: upgrades swap it).
 * Every path can be moved with an environment variable (tests).
 */
const env = process.env;
export const APPLIANCE_PATHS = {
  configFile: env.OIO_APPLIANCE_CONFIG ?? '/etc/oio/oio.json',
  dataDir: env.OIO_APPLIANCE_DATA ?? '/var/lib/oio',
  mountRoot: env.OIO_APPLIANCE_MOUNTS ?? '/srv/oio',
  diskState: env.OIO_APPLIANCE_DISK_STATE ?? '/var/lib/oio/disks.json',
  nodeEnv: env.OIO_APPLIANCE_NODE_ENV ?? '/run/oio/node.env',
  seedFiles: (env.OIO_APPLIANCE_SEED ?? '/boot/efi/oio-seed.conf').split(':'),
  cmdline: env.OIO_APPLIANCE_CMDLINE ?? '/proc/cmdline',
  firstBootDone: env.OIO_APPLIANCE_FIRST_BOOT_DONE ?? '/var/lib/oio/.first-boot-done',
  consoleReport: env.OIO_APPLIANCE_CONSOLE_REPORT ?? '/etc/oio/console-report',
  /** exists once the node was ready since boot: hot-plug passes wait for it (coldplug events) */
  readyFlag: env.OIO_APPLIANCE_READY_FLAG ?? '/run/oio/ready',
  console: env.OIO_APPLIANCE_CONSOLE ?? '/dev/console',
  /** the appliance's unit files (which per-disk template the root file system has) */
  unitDir: env.OIO_APPLIANCE_UNIT_DIR ?? '/etc/systemd/system',
  /** S3 over HTTPS (served by oio-node on 443): certificate made on first start */
  s3TlsCert: '/etc/oio/tls/s3.crt',
  s3TlsKey: '/etc/oio/tls/s3.key',
  nodeCgroup: env.OIO_APPLIANCE_NODE_CGROUP ?? '/sys/fs/cgroup/system.slice/oio-node.service/cgroup.procs',
};
