/**
 * @module fs-bridge/nfs/export-table
 * The live set of exports: built from a provider (the containers of an account, each opened
 * as a BridgeFs) and refreshed when a client names an export or a handle's export id that is
 * not known yet (a container created after the server started). Export ids come from the
 * path, so handles found again after a restart resolve to the same export.
 */
import type { BridgeFs } from '../core/types';
import { type ExportRule, makeExport, type NfsExport } from './exports';

export interface ExportProvider {
  /** the containers to export (the account's containers, or a fixed list) */
  containers(): Promise<string[]>;
  /** the bridge file system of one container (called once per container) */
  open(container: string): Promise<BridgeFs>;
  /**
   * whether one container exists, asked directly when a client names a container missing from
   * the listing (the account's listing lags behind a container creation)
   */
  exists?(container: string): Promise<boolean>;
}

export class ExportTable {
  private readonly byIdMap = new Map<string, NfsExport>();
  private readonly byNameMap = new Map<string, NfsExport>();
  private readonly opening = new Map<string, Promise<void>>();
  private refreshing?: Promise<void>;
  private lastRefresh = 0;

  /** `rules`: container -> rule, `*` for the others */
  constructor(private readonly provider: ExportProvider, private readonly rules: Record<string, ExportRule> = {}, private readonly minRefreshMs = 1000) {}

  /** every export (refreshes the container list) */
  async all(): Promise<NfsExport[]> {
    await this.refresh(true);
    return [...this.byNameMap.values()];
  }

  /** the export of a container, refreshing once when unknown */
  async byName(container: string): Promise<NfsExport | undefined> {
    if (!this.byNameMap.has(container)) await this.refresh(false);
    if (!this.byNameMap.has(container) && this.provider.exists && await this.provider.exists(container)) await this.add(container);
    return this.byNameMap.get(container);
  }

  /** Opens a container's bridge once, even under concurrent calls. */
  private add(name: string): Promise<void> {
    if (this.byNameMap.has(name)) return Promise.resolve();
    let p = this.opening.get(name);
    if (!p) {
      p = this.provider.open(name).then((fs) => {
        const exp = makeExport(name, fs, this.rules[name] ?? this.rules['*']);
        this.byNameMap.set(name, exp);
        this.byIdMap.set(exp.id, exp);
      }).finally(() => this.opening.delete(name));
      this.opening.set(name, p);
    }
    return p;
  }

  /** the export of a handle's export id, refreshing once when unknown */
  async byId(id: string): Promise<NfsExport | undefined> {
    const hit = this.byIdMap.get(id);
    if (hit) return hit;
    await this.refresh(false);
    return this.byIdMap.get(id);
  }

  /** the exports opened so far (no refresh) */
  opened(): NfsExport[] {
    return [...this.byNameMap.values()];
  }

  private async refresh(force: boolean): Promise<void> {
    if (!force && Date.now() - this.lastRefresh < this.minRefreshMs) return;
    if (!this.refreshing) {
      this.refreshing = (async () => {
        try {
          const names = await this.provider.containers();
          for (const name of names) {
            await this.add(name);
          }
          this.lastRefresh = Date.now();
        } finally {
          this.refreshing = undefined;
        }
      })();
    }
    await this.refreshing;
  }
}
