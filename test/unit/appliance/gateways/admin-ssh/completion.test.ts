/** Unit tests of the console's Tab completion (commands, flags, container names). */
import assert from 'node:assert/strict';
import { applyCompletion, complete, completionCommands, type CompletionSource } from '../../../../../appliance/gateways/admin-ssh';
import { GLOBAL_BOOLEANS } from '../../../../../appliance/cli';

function source(containers: string[] = []): CompletionSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    commands: completionCommands(),
    booleans: GLOBAL_BOOLEANS,
    asked,
    async containers(prefix) { asked.push(prefix); return containers.filter((c) => c.startsWith(prefix)); },
  };
}

describe('admin-ssh completion', () => {
  it('completes a resource name', async () => {
    const c = await complete('clu', source());
    assert.deepEqual(c, { partial: 'clu', candidates: ['cluster'] });
    assert.deepEqual(applyCompletion(c), { insert: 'ster ', show: [] });
  });

  it('offers every resource and console command on an empty line', async () => {
    const c = await complete('', source());
    for (const w of ['cluster', 'container', 'object', 'policy', 'node', 'admin', 'help', 'exit']) assert.ok(c.candidates.includes(w), w);
  });

  it('completes verbs after the resource, with or without a leading oio', async () => {
    assert.deepEqual((await complete('cluster ', source())).candidates, ['bootstrap', 'list', 'lock', 'show', 'unlock', 'watch']);
    assert.deepEqual((await complete('oio cluster w', source())).candidates, ['watch']);
    assert.deepEqual((await complete('node ', source())).candidates, ['logs', 'status']);
  });

  it('completes three-word commands', async () => {
    assert.deepEqual((await complete('admin key r', source())).candidates, ['remove']);
  });

  it('completes command names after help', async () => {
    assert.deepEqual((await complete('help container cr', source())).candidates, ['create']);
  });

  it('completes container names where the usage wants a container', async () => {
    const src = source(['photos', 'photos-old', 'music']);
    assert.deepEqual((await complete('container show ph', src)).candidates, ['photos', 'photos-old']);
    assert.deepEqual((await complete('object list mu', src)).candidates, ['music']);
    assert.deepEqual(src.asked, ['ph', 'mu']);
  });

  it('does not list containers for an object name or a flag value', async () => {
    const src = source(['photos']);
    assert.deepEqual((await complete('object show photos ', src)).candidates, []);
    assert.deepEqual((await complete('container create x --storage-policy ', src)).candidates, []);
    assert.deepEqual(src.asked, []);
  });

  it('skips flags and their values when counting positionals', async () => {
    const src = source(['photos']);
    assert.deepEqual((await complete('object list --format json ph', src)).candidates, ['photos']);
    assert.deepEqual((await complete('container delete --force ph', src)).candidates, ['photos']);
  });

  it('completes every container of a repeated NAME...', async () => {
    const src = source(['a1', 'a2', 'b1']);
    assert.deepEqual((await complete('container delete a1 b', src)).candidates, ['b1']);
  });

  it('completes flags from the usage and the global ones', async () => {
    const c = await complete('container create x --st', source());
    assert.deepEqual(c.candidates, ['--storage-policy']);
    assert.ok((await complete('cluster show --f', source())).candidates.includes('--format'));
  });

  it('inserts the common prefix of several candidates, then lists them', () => {
    assert.deepEqual(applyCompletion({ partial: 'p', candidates: ['photos', 'photos-old'] }), { insert: 'hotos', show: [] });
    assert.deepEqual(applyCompletion({ partial: 'photos', candidates: ['photos', 'photos-old'] }), { insert: '', show: ['photos', 'photos-old'] });
    assert.deepEqual(applyCompletion({ partial: 'x', candidates: [] }), { insert: '', show: [] });
  });
});
