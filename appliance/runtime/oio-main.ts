/**
 * @module runtime/oio-main
 * The `oio` binary: `oio node up` composes and runs a whole node in this process; every
 * other command is the CLI (`appliance/cli`), which only talks to services over the network.
 */
import path from 'node:path';
import { ConfigKey, SCHEMA, flagName, isConfigKey, loadConfig, rootLogger, toOioError } from '../common';
import { parseArgs } from '../cli/args';
import { SERVICE_TYPES, startNode, volumeIndexOf } from './node-host';
// The CLI and the FUSE mount load only when asked for: a service process does not carry them.

const NODE_UP_USAGE = 'node up [--data DIR] [--ip IP] [--rawx-count N] [--config FILE] [--<any config key> VALUE]';

/** Maps `--rawx-count 6` / `--data DIR` onto schema keys. */
function configOverrides(flags: Record<string, unknown>): Partial<Record<ConfigKey, unknown>> {
  const out: Partial<Record<ConfigKey, unknown>> = {};
  for (const [flag, value] of Object.entries(flags)) {
    if (flag === 'config') continue;
    const key = flag === 'data' ? 'data_dir' : flag;
    const candidates = [key, key.replace(/-/g, '_'), key.replace(/-/g, '.'), key.replace(/-/, '.').replace(/-/g, '_')];
    const k = candidates.find(isConfigKey) ?? (Object.keys(SCHEMA) as ConfigKey[]).find((c) => flagName(c) === `--${flag}`);
    if (!k) throw new Error(`unknown option --${flag} (see the config reference in the README)`);
    out[k] = value;
  }
  return out;
}

const SERVICE_RUN_USAGE = 'service run TYPE[,TYPE...] [--index N | --volume DIR] [same options as node up]';

/**
 * `oio node up` (every service of node.services) or `oio service run TYPE --index N` (one
 * service, as a systemd template unit runs it): same config, same code path.
 */
async function nodeUp(argv: string[], only?: { types: string[] }): Promise<number> {
  const args = parseArgs(argv, {});
  let rawxIndexes: number[] | undefined;
  if (typeof args.flags.index === 'string') {
    const i = Number(args.flags.index);
    if (!Number.isInteger(i) || i < 0) throw new Error(`--index must be a volume index (0, 1, ...), not "${args.flags.index}"`);
    rawxIndexes = [i];
    delete args.flags.index;
  }
  // A template unit names its volume by folder (oio-volume@LABEL: --volume /srv/oio/LABEL).
  const volume = typeof args.flags.volume === 'string' ? args.flags.volume : undefined;
  delete args.flags.volume;
  if (volume !== undefined && rawxIndexes) throw new Error('--index and --volume name the same thing: give one');
  const overrides = configOverrides(args.flags);
  const dataDir = String(overrides.data_dir ?? process.env.OIO_DATA_DIR ?? './.oio-data');
  const file = typeof args.flags.config === 'string' ? args.flags.config : path.join(dataDir, 'oio.json');
  const config = loadConfig({ file, env: process.env, overrides });
  if (volume !== undefined) rawxIndexes = [volumeIndexOf(config, volume)];
  const log = rootLogger.child({ node: config.ip });
  const node = await startNode(config, log, only ? { services: only.types, rawxIndexes } : {});
  log.info('node ready', { proxy: node.proxyAddr, conscience: node.conscienceAddrs, data: path.resolve(config.data_dir), services: node.services.map((s) => `${s.type}@${s.addr}`) });
  process.stderr.write(`oio: ${only ? only.types.join('+') : 'node'} up on ${config.ip}: ${node.services.map((s) => `${s.type} ${s.addr}`).join(', ')}; data ${path.resolve(config.data_dir)} (Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal: sig });
      node.stop().then(resolve, resolve);
    };
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
  });
  log.info('node stopped');
  return 0;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'node' && argv[1] === 'up') {
    try { return await nodeUp(argv.slice(2)); }
    catch (e) { process.stderr.write(`oio: ${toOioError(e).code}: ${(e as Error).message}\n`); return 1; }
  }
  if (argv[0] === 'service' && argv[1] === 'run') {
    const type = argv[2];
    if (!type || type.startsWith('--')) { process.stderr.write(`usage: oio ${SERVICE_RUN_USAGE}\n`); return 2; }
    // `rawx,rdir`: a disk's two services in one process (one Node runtime per disk, not two)
    const types = type.split(',').filter(Boolean);
    const unknown = types.filter((t) => !SERVICE_TYPES.includes(t));
    if (unknown.length) { process.stderr.write(`oio: unknown service type ${unknown.join(', ')} (one of ${SERVICE_TYPES.join(', ')})\n`); return 2; }
    try { return await nodeUp(argv.slice(3), { types }); }
    catch (e) { process.stderr.write(`oio: ${toOioError(e).code}: ${(e as Error).message}\n`); return 1; }
  }
  if (argv[0] === 'mount' || argv[0] === 'umount') {
    const { mountCommand, umountCommand } = await import('./mount-command');
    try { return await (argv[0] === 'mount' ? mountCommand(argv.slice(1)) : umountCommand(argv.slice(1))); }
    catch (e) { process.stderr.write(`oio: ${toOioError(e).code}: ${(e as Error).message}\n`); return 1; }
  }
  const { helpText, runCli } = await import('../cli');
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help') {
    const { MOUNT_USAGE, UMOUNT_USAGE } = await import('./mount-command');
    process.stdout.write(helpText([
      { usage: NODE_UP_USAGE, summary: 'run every service of one node in this process (the embedded default)' },
      { usage: SERVICE_RUN_USAGE, summary: 'run one service, or a few (e.g. a volume\'s rawx,rdir), in this process' },
      { usage: MOUNT_USAGE, summary: 'mount a container (or the account: /) with FUSE; background unless --foreground' },
      { usage: UMOUNT_USAGE, summary: 'commit pending files and unmount a FUSE mount' },
    ]));
    return 0;
  }
  return runCli(argv, {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    isTTY: process.stderr.isTTY === true,
  }, process.env);
}

main(process.argv.slice(2)).then((rc) => { process.exitCode = rc; }, (e: unknown) => {
  process.stderr.write(`oio: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = 1;
});
