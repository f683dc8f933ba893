/**
 * @module client/lb/auto-policy
 * Dynamic storage policies (OpenIO "auto storage policies"): a rule list
 * `DEFAULT,POLICY:THRESHOLD,...` picks an object's policy from its size. The rule with the
 * largest threshold <= size applies; DEFAULT applies when the size is unknown (a streamed
 * upload) or below every threshold. Thresholds take size units (`256KiB`). E.g.
 * `EC63,THREECOPIES:0,EC63:256KiB`: replicate under 256 KiB, erasure code above and when
 * the size is unknown. Set per namespace (`ns.auto_storage_policies`) and per container
 * (property `sys.auto_storage_policies`, which wins).
 */
import { InvalidArgumentError } from '../../common/errors';
import type { NamespaceInfo } from '../../common/model';
import { parseSize } from '../../common/units';

/** Container property overriding the namespace's dynamic policies ('' turns them off). */
export const AUTO_POLICIES_PROPERTY = 'sys.auto_storage_policies';

/** Parsed rules. */
export interface AutoPolicies {
  /** policy for unknown sizes and sizes below every threshold */
  defaultPolicy: string;
  /** by ascending threshold */
  rules: Array<{ policy: string; threshold: number }>;
}

/**
 * Parses `DEFAULT,POLICY:THRESHOLD,...`; undefined for an empty string (no dynamic policies).
 * @throws InvalidArgumentError BAD_REQUEST on a bad item, a missing default or a repeated threshold
 */
export function parseAutoPolicies(raw: string | undefined): AutoPolicies | undefined {
  const items = String(raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) return undefined;
  let defaultPolicy: string | undefined;
  const rules: AutoPolicies['rules'] = [];
  for (const item of items) {
    const i = item.lastIndexOf(':');
    if (i < 0) {
      if (defaultPolicy !== undefined) throw new InvalidArgumentError('BAD_REQUEST', `auto storage policies "${raw}": two defaults (${defaultPolicy}, ${item})`);
      defaultPolicy = item;
      continue;
    }
    const policy = item.slice(0, i).trim();
    if (!policy) throw new InvalidArgumentError('BAD_REQUEST', `auto storage policies "${raw}": "${item}" has no policy`);
    const threshold = parseSize(item.slice(i + 1), `auto storage policies "${raw}" (${item})`);
    if (rules.some((r) => r.threshold === threshold)) throw new InvalidArgumentError('BAD_REQUEST', `auto storage policies "${raw}": threshold ${threshold} given twice`);
    rules.push({ policy, threshold });
  }
  if (defaultPolicy === undefined) throw new InvalidArgumentError('BAD_REQUEST', `auto storage policies "${raw}": a default policy (an item without ":THRESHOLD") is required`);
  rules.sort((a, b) => a.threshold - b.threshold);
  return { defaultPolicy, rules };
}

/** The policy for an object of `size` bytes (undefined: unknown size). */
export function pickAutoPolicy(auto: AutoPolicies, size: number | undefined): string {
  if (size === undefined) return auto.defaultPolicy;
  let chosen = auto.defaultPolicy;
  for (const r of auto.rules) if (r.threshold <= size) chosen = r.policy;
  return chosen;
}

/**
 * Checks that rules parse and name known storage policies.
 * @throws InvalidArgumentError BAD_REQUEST naming the unknown policy
 */
export function checkAutoPolicies(raw: string | undefined, ns: Pick<NamespaceInfo, 'storagePolicies'>): AutoPolicies | undefined {
  const auto = parseAutoPolicies(raw);
  if (!auto) return undefined;
  for (const p of [auto.defaultPolicy, ...auto.rules.map((r) => r.policy)]) {
    if (!(p in ns.storagePolicies)) throw new InvalidArgumentError('BAD_REQUEST', `auto storage policies "${raw}": unknown storage policy "${p}"`);
  }
  return auto;
}
