/**
 * @module common/config/volumes
 * The rawx volumes a node's configuration names, and which of them its front ends read from
 * the files: for `oio node up`, `oio service run` and `oio mount --config`.
 */
import path from 'node:path';
import type { Config } from './loader';

/** The node's volume folders: rawx.volumes, else rawx.count folders under DATA/volumes. */
export function rawxVolumes(config: Config): string[] {
  if (config['rawx.volumes'].length) return config['rawx.volumes'].map((v) => path.resolve(v));
  return Array.from({ length: config['rawx.count'] }, (_, i) => path.resolve(config.data_dir, 'volumes', `rawx-${i}`));
}

/**
 * The rawx of this node (`ip:port` → volume folder) whose chunks its front ends read from the
 * files (node.local_reads; see client/data/chunk-open); empty when off.
 */
export function localVolumes(config: Config): Map<string, string> {
  if (!config['node.local_reads']) return new Map();
  return new Map(rawxVolumes(config).map((v, i) => [`${config.ip}:${config['rawx.port'] + i}`, v]));
}
