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
  // Geometric mean of idle CPU, idle IO and free space; 0 under 2% free (nearly full). A
  // saturated CPU or disk counts as 1% idle: it ranks a service last but never excludes it
  // (a busy grid still takes writes); only a full volume, a service down or stale scores 0.
  rawx: {
    put: '(stat.space >= 2) * root(3, max(stat.cpu, 1) * max(stat.io, 1) * stat.space)',
    get: 'root(2, max(stat.cpu, 1) * max(stat.io, 1))',
  },
  meta2: { put: '(stat.space >= 2) * root(3, max(stat.cpu, 1) * max(stat.io, 1) * stat.space)', get: 'root(2, max(stat.cpu, 1) * max(stat.io, 1))' },
  '*': { put: 'root(2, max(stat.cpu, 1) * max(stat.io, 1))', get: 'root(2, max(stat.cpu, 1) * max(stat.io, 1))' },
};

export const DEFAULT_DATA_SECURITY: Record<string, string> = {
  NONE: 'plain/nb_copy=1,distance=0',
  DUPONETWO: 'plain/distance=1,nb_copy=2',
  DUPONETHREE: 'plain/distance=1,nb_copy=3',
  // Erasure coding: k data + m parity fragments. No algo: the writer uses the native codec
  // when it loads, else the portable one, and records which in the content's chunk method.
  EC42: 'ec/k=4,m=2,distance=1',
  EC63: 'ec/k=6,m=3,distance=1',
  EC123: 'ec/k=12,m=3,distance=1',
  EC144: 'ec/k=14,m=4,distance=1',
};

/** storage policy name -> "POOL:DATA_SECURITY" (as `openio cluster show`). */
export const DEFAULT_STORAGE_POLICIES: Record<string, string> = {
  SINGLE: 'NONE:NONE',
  TWOCOPIES: 'NONE:DUPONETWO',
  THREECOPIES: 'NONE:DUPONETHREE',
  EC42: 'NONE:EC42',
  EC63: 'NONE:EC63',
  EC123: 'NONE:EC123',
  EC144: 'NONE:EC144',
};

export const SCHEMA = {
  // --- node ---
  namespace: { type: 'string', default: 'OPENIO', description: 'Namespace name shared by every node of the grid.' },
  ip: { type: 'string', default: '127.0.0.1', description: 'Address every service of this node binds and advertises.' },
  data_dir: { type: 'string', default: './.oio-data', description: 'Folder holding the node\'s bases, volumes and logs.' },
  location: { type: 'string', default: '', description: 'Dotted location of this node (room.rack.host); empty: derived from ip.' },
  conscience: { type: 'string', default: '', description: 'Conscience address(es) host:port, comma separated; empty: ip:conscience.port.' },
  'node.services': { type: 'list', default: ['conscience', 'meta0', 'meta1', 'account', 'meta2', 'rawx', 'rdir', 'proxy', 's3', 'admin-ssh'], description: 'Services of the node: `oio node up` runs them in its process (others may run as `oio service run TYPE`); with rdir listed, every rawx feeds the rdir of its volume.' },
  'node.local_reads': { type: 'bool', default: true, description: 'The node\'s front ends (S3, NFS, FTP, the console\'s files) read the chunks of this node\'s rawx volumes from their files instead of over HTTP (short-circuit reads: a large GET costs about half the CPU); anything the file cannot settle still goes to the rawx.' },
  'node.volume_indexes': { type: 'list', default: [], description: 'Indexes of the volumes (rawx.volumes, else rawx.count) whose rawx and rdir `oio node up` runs in its process; empty: all. The image lists 0 (the boot disk): each data disk runs in its own units (oio-rawx@, oio-rdir@: `oio service run rawx --volume DIR`).' },
  'etcd.endpoints': { type: 'list', default: [], description: 'etcd client endpoints (host:port) of the grid; empty: a single node without coordination.' },
  'etcd.member': { type: 'bool', default: false, description: 'Run an etcd member on this node (the first three nodes of a grid).' },
  'etcd.initial_cluster': { type: 'string', default: '', description: 'etcd initial cluster (name=http://ip:2380,...) when etcd.member; empty: a one-member cluster.' },
  'etcd.cluster_state': { type: 'string', default: 'new', enum: ['new', 'existing'], description: 'etcd initial cluster state.' },
  'etcd.client_port': { type: 'int', default: 2379, min: 1, max: 65535, description: 'Port of the local etcd member for clients.' },
  'etcd.peer_port': { type: 'int', default: 2380, min: 1, max: 65535, description: 'Port of the local etcd member for its peers.' },
  'etcd.lease_ttl': { type: 'duration', default: '4s', min: 2000, max: 60_000, description: 'Lease of masters and members: a dead master is replaced after about this long.' },
  'conscience.port': { type: 'int', default: 6000, min: 0, max: 65535, description: 'Conscience port.' },
  'meta0.port': { type: 'int', default: 6001, min: 0, max: 65535, description: 'meta0 port.' },
  'proxy.port': { type: 'int', default: 6006, min: 0, max: 65535, description: 'Proxy (metadata REST gateway) port.' },
  's3.port': { type: 'int', default: 6007, min: 0, max: 65535, description: 'S3 gateway port.' },
  's3.tls_port': { type: 'int', default: 0, min: 0, max: 65535, description: 'HTTPS port of the S3 gateway, served by the same process as s3.port (0: no HTTPS). The certificate is s3.tls_cert / s3.tls_key, self-signed and made on first start when absent.' },
  's3.tls_cert': { type: 'string', default: '', description: 'Certificate (PEM) of S3 over HTTPS (empty: DATA/s3/tls/cert.pem).' },
  's3.tls_key': { type: 'string', default: '', description: 'Private key (PEM) of S3 over HTTPS (empty: DATA/s3/tls/key.pem).' },
  's3.access_key': { type: 'string', default: 'demo', description: 'Access key of the default S3 user `oio node up` creates (account `default`).' },
  's3.secret_key': { type: 'string', default: 'demosecretkey123', description: 'Secret key of the default S3 user (never logged). Change it: OIO_S3_SECRET_KEY.' },
  's3.domains': { type: 'list', default: ['localhost'], description: 'Domains of virtual-hosted style S3 addressing: a Host of <bucket>.<domain> names the bucket.' },
  's3.storage_classes': { type: 'json', default: {}, description: 'Storage policy of each S3 storage class, e.g. {"STANDARD_IA": "EC42", "REDUCED_REDUNDANCY": "TWOCOPIES"}. A class not listed (and STANDARD) uses the bucket\'s policy; the class asked for is kept with the object either way.' },
  's3.lifecycle_interval': { type: 'duration', default: '1h', min: 0, max: 86_400_000, description: 'How often the S3 lifecycle worker applies the buckets\' lifecycle rules (on one gateway of the grid at a time); 0: never.' },
  's3.lifecycle_day': { type: 'duration', default: '1d', min: 1000, max: 86_400_000, description: 'Length of a lifecycle "day" (Days, NoncurrentDays, DaysAfterInitiation). Only tests shorten it; with 1d, days end at midnight UTC as in S3.' },
  's3.sse_c_over_http': { type: 'bool', default: false, description: 'Take SSE-C keys (server-side encryption with customer keys) over plain HTTP from other hosts too; S3 takes them over HTTPS only (s3.tls_port). Plain HTTP from this host (loopback) is always taken.' },
  's3.sse_key_file': { type: 'string', default: '', description: 'File of the master key that wraps the data keys of SSE-S3 objects (AES256); empty: a single node\'s DATA/s3/sse-master.key (made on its first start), a grid\'s secret in etcd (made by the first gateway). Losing it loses those objects: back it up.' },
  's3.log_delivery_interval': { type: 'duration', default: '5m', min: 100, max: 86_400_000, description: 'How often the S3 gateway writes the server access log lines of buckets with logging on (PutBucketLogging) into their target buckets (sooner once 1 MiB waits).' },
  's3.region': { type: 'string', default: 'us-east-1', description: 'Region the S3 gateway answers in GetBucketLocation (any region is accepted in signatures).' },
  'account.port': { type: 'int', default: 6009, min: 0, max: 65535, description: 'Account service port.' },
  'meta1.port': { type: 'int', default: 6110, min: 0, max: 65535, description: 'meta1 port.' },
  'meta2.port': { type: 'int', default: 6120, min: 0, max: 65535, description: 'meta2 port.' },
  'rawx.port': { type: 'int', default: 6200, min: 0, max: 65535, description: 'Port of the first rawx; volume i listens on port + i.' },
  'rawx.count': { type: 'int', default: 3, min: 0, max: 256, description: 'Number of rawx volumes created as folders under data_dir/volumes when rawx.volumes is empty.' },
  'rawx.volumes': { type: 'list', default: [], description: 'Explicit volume paths (mounted disks), one rawx each.' },
  'rdir.port': { type: 'int', default: 6300, min: 0, max: 65535, description: 'Port of the rdir (reverse index) of the first volume; the rdir of volume i listens on port + i.' },
  'rawx.fsync': { type: 'bool', default: true, description: 'fsync chunk file and folder before answering a PUT.' },
  'agent.interval': { type: 'duration', default: '2s', min: 100, max: 60_000, description: 'How often the agent samples and registers services.' },
  'proxy.cache_ttl': { type: 'duration', default: '60s', min: 0, max: 3_600_000, description: 'How long the proxy caches meta0/meta1 answers.' },
  'meta2.event_interval': { type: 'duration', default: '200ms', min: 10, max: 60_000, description: 'How often meta2 drains its durable event queue.' },
  'admin_ssh.port': { type: 'int', default: 2222, min: 0, max: 65535, description: 'SSH admin console port (22 on the image).' },
  'admin_ssh.user': { type: 'string', default: 'admin', description: 'The one login name of the SSH admin console.' },
  'admin_ssh.password_auth': { type: 'bool', default: false, description: 'Allow password login to the console (scrypt hashes set with `oio admin password set`); off: public keys only.' },
  'admin_ssh.max_auth_failures': { type: 'int', default: 10, min: 1, max: 10_000, description: 'Failed authentications allowed per source address within admin_ssh.auth_window before it is refused.' },
  'admin_ssh.auth_window': { type: 'duration', default: '60s', min: 1000, max: 86_400_000, description: 'Window (and ban length) of the console\'s per-address failure limit.' },
  'admin_ssh.account': { type: 'string', default: 'default', description: 'Account the console\'s commands use unless --oio-account is given.' },
  'ftp.port': { type: 'int', default: 2121, min: 0, max: 65535, description: 'FTP bridge control port (service type ftp, not in node.services by default).' },
  'ftp.pasv_range': { type: 'string', default: '30000-30099', description: 'FTP passive data ports, "MIN-MAX" inclusive.' },
  'ftp.tls': { type: 'bool', default: false, description: 'Offer explicit TLS (AUTH TLS) with a self-signed certificate made on first start (openssl).' },
  'ftp.users': { type: 'json', default: {}, description: 'FTP users until the S3 credential store is shared: NAME (access key) -> { password (secret), account }.' },
  'nfs.port': { type: 'int', default: 2049, min: 0, max: 65535, description: 'NFSv3 and MOUNT v3 TCP port (service nfs); when not root or busy, a high port is used and logged.' },
  'nfs.account': { type: 'string', default: 'default', description: 'Account whose containers the NFS server exports, one export /<container> each.' },
  'nfs.exports': { type: 'json', default: {}, description: 'NFS export rules: container (or "*") -> { clients: [address or CIDR], readOnly: bool }; no rule: any client, read-write.' },
  'nfs.portmap': { type: 'bool', default: false, description: 'Also serve a portmapper (program 100000 v2) on nfs.portmap_port.' },
  'nfs.portmap_port': { type: 'int', default: 111, min: 0, max: 65535, description: 'Portmapper port when nfs.portmap is on.' },
  access_log: { type: 'bool', default: true, description: 'One access line per request in the service logs.' },
  // --- namespace (served by the conscience) ---
  'ns.chunk_size': { type: 'size', default: '100MiB', min: 4096, max: 2 ** 40, description: 'Maximum metachunk size; larger contents are split.' },
  'ns.storage_policy': { type: 'string', default: 'THREECOPIES', description: 'Default storage policy of the namespace.' },
  'ns.storage_policies': { type: 'json', default: DEFAULT_STORAGE_POLICIES, description: 'Storage policies: NAME -> "POOL:DATA_SECURITY".' },
  'ns.data_security': { type: 'json', default: DEFAULT_DATA_SECURITY, description: 'Data security definitions: NAME -> "plain/nb_copy=N,distance=D" or "ec/k=K,m=M,distance=D[,algo=ronomon_cauchy|js_rs_vand]".' },
  'ns.auto_storage_policies': { type: 'string', default: '', description: 'Dynamic storage policies by object size, "DEFAULT,POLICY:THRESHOLD,..." (e.g. "EC63,THREECOPIES:0,EC63:256KiB"): the rule with the largest threshold <= size applies, DEFAULT when the size is unknown (streamed) or below every threshold; empty: off. A container overrides it with its property sys.auto_storage_policies.' },
  'ns.ec_quorum_extra': { type: 'int', default: 1, min: 0, max: 255, description: 'An erasure-coded write succeeds when k + this many fragments are stored (capped at k + m).' },
  'ns.pools': { type: 'json', default: {}, description: 'Pools: NAME -> { targets: [{ count, slots: [..] }], min_dist, max_dist, warn_dist, nearby_mode }.' },
  'ns.score_expr': { type: 'json', default: DEFAULT_SCORE_EXPR, description: 'Put and get score expression per service type ("*" for the rest).' },
  'ns.score_timeout': { type: 'duration', default: '10s', min: 1000, max: 86_400_000, description: 'A service whose stats are older scores 0 (and stays listed).' },
  'ns.score_variation_bound': { type: 'int', default: 5, min: 1, max: 100, description: 'Maximum rise of a score per refresh (falls are immediate).' },
  'ns.directory_replicas': { type: 'int', default: 3, min: 1, max: 9, description: 'Replicas of each meta1/meta2 base on distinct nodes (fewer when the grid has fewer nodes).' },
  'ns.max_versions': { type: 'int', default: 1, min: -1, max: 1_000_000, description: 'Default versions kept per object (1: versioning off, -1: unlimited).' },
  'ns.bulletin_refresh': { type: 'duration', default: '2s', min: 100, max: 60_000, description: 'How often clients refresh the score bulletin.' },
} as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof SCHEMA;
