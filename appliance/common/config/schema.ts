/**
 * @module common/config/schema
 * The one configuration schema: every key with its type, default, bounds and description.
 * Namespace-wide keys (`ns.*`: policies, pools, score expressions, chunk size) are served by
 * the conscience to every node and client; node keys configure the local services.
 * A script generates the config reference and the image's default config from this table.
 */

export type KeyType = 'string' | 'int' | 'size' | 'duration' | 'bool' | 'json' | 'list';

export interface KeySpec {
  type: KeyType;
  default: unknown;
  description: string;
  min?: number;
  max?: number;
  /** for `string`: allowed values */
  enum?: readonly string[];
}

export const DEFAULT_SCORE_EXPR: Record<string, { put: string; get: string }> = {
  // Geometric mean of idle CPU, idle IO and free space; 0 when under 2% free (nearly full).
  rawx: {
    put: '(stat.space >= 2) * root(3, stat.cpu * stat.io * stat.space)',
    get: 'root(2, stat.cpu * stat.io)',
  },
  // Directory services: no volume saturation rule, CPU and IO matter.
  meta2: { put: '(stat.space >= 2) * root(3, stat.cpu * stat.io * stat.space)', get: 'root(2, stat.cpu * stat.io)' },
  '*': { put: 'root(2, stat.cpu * stat.io)', get: 'root(2, stat.cpu * stat.io)' },
};

export const DEFAULT_DATA_SECURITY: Record<string, string> = {
  NONE: 'plain/nb_copy=1,distance=0',
  DUPONETWO: 'plain/distance=1,nb_copy=2',
  DUPONETHREE: 'plain/distance=1,nb_copy=3',
};

/** storage policy name -> "POOL:DATA_SECURITY" (as `openio cluster show`). */
export const DEFAULT_STORAGE_POLICIES: Record<string, string> = {
  SINGLE: 'NONE:NONE',
  TWOCOPIES: 'NONE:DUPONETWO',
  THREECOPIES: 'NONE:DUPONETHREE',
};

export const SCHEMA = {
  // --- node ---
  namespace: { type: 'string', default: 'OPENIO', description: 'Namespace name shared by every node of the grid.' },
  ip: { type: 'string', default: '127.0.0.1', description: 'Address every service of this node binds and advertises.' },
  data_dir: { type: 'string', default: './.oio-data', description: 'Folder holding the node\'s bases, volumes and logs.' },
  location: { type: 'string', default: '', description: 'Dotted location of this node (room.rack.host); empty: derived from ip.' },
  conscience: { type: 'string', default: '', description: 'Conscience address(es) host:port, comma separated; empty: ip:conscience.port.' },
  'node.services': { type: 'list', default: ['conscience', 'meta0', 'meta1', 'account', 'meta2', 'rawx', 'proxy', 's3'], description: 'Services `oio node up` runs in its process (others may run as `oio service run TYPE`).' },
  'conscience.port': { type: 'int', default: 6000, min: 0, max: 65535, description: 'Conscience port.' },
  'meta0.port': { type: 'int', default: 6001, min: 0, max: 65535, description: 'meta0 port.' },
  'proxy.port': { type: 'int', default: 6006, min: 0, max: 65535, description: 'Proxy (metadata REST gateway) port.' },
  's3.port': { type: 'int', default: 6007, min: 0, max: 65535, description: 'S3 gateway port.' },
  's3.access_key': { type: 'string', default: 'demo', description: 'Access key of the default S3 user `oio node up` creates (account `default`).' },
  's3.secret_key': { type: 'string', default: 'demosecretkey123', description: 'Secret key of the default S3 user (never logged). Change it: OIO_S3_SECRET_KEY.' },
  's3.domains': { type: 'list', default: ['localhost'], description: 'Domains of virtual-hosted style S3 addressing: a Host of <bucket>.<domain> names the bucket.' },
  's3.region': { type: 'string', default: 'us-east-1', description: 'Region the S3 gateway answers in GetBucketLocation (any region is accepted in signatures).' },
  'account.port': { type: 'int', default: 6009, min: 0, max: 65535, description: 'Account service port.' },
  'meta1.port': { type: 'int', default: 6110, min: 0, max: 65535, description: 'meta1 port.' },
  'meta2.port': { type: 'int', default: 6120, min: 0, max: 65535, description: 'meta2 port.' },
  'rawx.port': { type: 'int', default: 6200, min: 0, max: 65535, description: 'Port of the first rawx; volume i listens on port + i.' },
  'rawx.count': { type: 'int', default: 3, min: 0, max: 256, description: 'Number of rawx volumes created as folders under data_dir/volumes when rawx.volumes is empty.' },
  'rawx.volumes': { type: 'list', default: [], description: 'Explicit volume paths (mounted disks), one rawx each.' },
  'rawx.fsync': { type: 'bool', default: true, description: 'fsync chunk file and folder before answering a PUT.' },
  'agent.interval': { type: 'duration', default: '2s', min: 100, max: 60_000, description: 'How often the agent samples and registers services.' },
  'proxy.cache_ttl': { type: 'duration', default: '60s', min: 0, max: 3_600_000, description: 'How long the proxy caches meta0/meta1 answers.' },
  'meta2.event_interval': { type: 'duration', default: '200ms', min: 10, max: 60_000, description: 'How often meta2 drains its durable event queue.' },
  access_log: { type: 'bool', default: true, description: 'One access line per request in the service logs.' },
  // --- namespace (served by the conscience) ---
  'ns.chunk_size': { type: 'size', default: '100MiB', min: 4096, max: 2 ** 40, description: 'Maximum metachunk size; larger contents are split.' },
  'ns.storage_policy': { type: 'string', default: 'THREECOPIES', description: 'Default storage policy of the namespace.' },
  'ns.storage_policies': { type: 'json', default: DEFAULT_STORAGE_POLICIES, description: 'Storage policies: NAME -> "POOL:DATA_SECURITY".' },
  'ns.data_security': { type: 'json', default: DEFAULT_DATA_SECURITY, description: 'Data security definitions: NAME -> "plain/nb_copy=N,distance=D".' },
  'ns.pools': { type: 'json', default: {}, description: 'Pools: NAME -> { targets: [{ count, slots: [..] }], min_dist, max_dist, warn_dist, nearby_mode }.' },
  'ns.score_expr': { type: 'json', default: DEFAULT_SCORE_EXPR, description: 'Put and get score expression per service type ("*" for the rest).' },
  'ns.score_timeout': { type: 'duration', default: '30s', min: 1000, max: 86_400_000, description: 'A service whose stats are older scores 0 (and stays listed).' },
  'ns.score_variation_bound': { type: 'int', default: 5, min: 1, max: 100, description: 'Maximum rise of a score per refresh (falls are immediate).' },
  'ns.max_versions': { type: 'int', default: 1, min: -1, max: 1_000_000, description: 'Default versions kept per object (1: versioning off, -1: unlimited).' },
  'ns.bulletin_refresh': { type: 'duration', default: '2s', min: 100, max: 60_000, description: 'How often clients refresh the score bulletin.' },
} as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof SCHEMA;
