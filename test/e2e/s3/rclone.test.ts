/**
 * End-to-end: rclone (Debian) against a real node's S3 gateway: `sync` a tree (small and
 * multipart files), then `check` it, change it, sync again and check again.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { dumpLogsOnFailure } from '../../helpers/grid';
import { tmpDir } from '../../helpers/tmp';
import { ACCESS_KEY, S3Node, SECRET_KEY, bucketName, clientEnv, requireTool, runOk, startS3Node } from './s3-env';

describe('e2e: S3 gateway with rclone', function () {
  this.timeout(180_000);
  let s3n: S3Node;
  let env: NodeJS.ProcessEnv;
  const rclone = (...args: string[]) => runOk('rclone', ['--config', '/dev/null', ...args], env);

  before(async function () {
    requireTool(this, 'rclone');
    s3n = await startS3Node();
    env = clientEnv({
      RCLONE_CONFIG_OIO_TYPE: 's3', RCLONE_CONFIG_OIO_PROVIDER: 'Other', RCLONE_CONFIG_OIO_ACCESS_KEY_ID: ACCESS_KEY,
      RCLONE_CONFIG_OIO_SECRET_ACCESS_KEY: SECRET_KEY, RCLONE_CONFIG_OIO_ENDPOINT: s3n.endpoint, RCLONE_CONFIG_OIO_FORCE_PATH_STYLE: 'true',
      RCLONE_CONFIG_OIO_REGION: 'us-east-1', RCLONE_S3_UPLOAD_CUTOFF: '5Mi', RCLONE_S3_CHUNK_SIZE: '5Mi',
    });
  });
  after(async () => { await s3n?.node.stop(); });
  afterEach(function () { dumpLogsOnFailure(this, s3n?.node); });

  it('syncs a tree and checks it, twice', () => {
    const b = bucketName('rclone');
    const src = tmpDir('rclone-src-');
    fs.mkdirSync(path.join(src, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(src, 'top.txt'), 'top');
    fs.writeFileSync(path.join(src, 'a', 'mid.bin'), randomBytes(300_000));
    fs.writeFileSync(path.join(src, 'a', 'b', 'big.bin'), randomBytes(11 * 1024 * 1024));
    fs.writeFileSync(path.join(src, 'a', 'b', 'empty'), '');
    rclone('mkdir', `oio:${b}`);
    rclone('sync', src, `oio:${b}/data`);
    rclone('check', src, `oio:${b}/data`);
    fs.writeFileSync(path.join(src, 'top.txt'), 'changed top');
    fs.rmSync(path.join(src, 'a', 'mid.bin'));
    fs.writeFileSync(path.join(src, 'new.txt'), 'new');
    rclone('sync', src, `oio:${b}/data`);
    rclone('check', src, `oio:${b}/data`);
    const listed = rclone('lsf', '-R', `oio:${b}/data`).trim().split('\n').sort();
    assert.deepEqual(listed, ['a/', 'a/b/', 'a/b/big.bin', 'a/b/empty', 'new.txt', 'top.txt']);
    const back = tmpDir('rclone-back-');
    rclone('copy', `oio:${b}/data`, back);
    assert.ok(fs.readFileSync(path.join(back, 'a', 'b', 'big.bin')).equals(fs.readFileSync(path.join(src, 'a', 'b', 'big.bin'))));
  });
});
