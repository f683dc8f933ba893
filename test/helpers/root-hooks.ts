/**
 * Mocha root hooks: every node a test started is stopped at the end of the run, even when
 * a test failed before its own `after`.
 */
import { stopAllNodes } from './grid';
import { cleanupTmp } from './tmp';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopAllNodes();
    cleanupTmp();
  },
};
