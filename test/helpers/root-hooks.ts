/**
 * Mocha root hooks: every node a test started is stopped at the end of the run, even when
 * a test failed before its own `after`.
 */
import { stopAllNodes } from './grid';
import { cleanupTmp } from './tmp';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    // Nodes stop in parallel; one that ignores SIGTERM is killed after 15 s.
    this.timeout(120_000);
    await stopAllNodes();
    cleanupTmp();
  },
};
