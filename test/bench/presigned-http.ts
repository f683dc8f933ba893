/**
 * A presigned S3 request sent with Node's plain HTTP client (no SDK), so a bench measures
 * what the gateway costs, not a client library's own hashing. Shared by s3-bench and
 * bridge-bench.
 */
import fs from 'node:fs';
import http from 'node:http';

/**
 * Sends `method` to a presigned `url` with a buffer, a file streamed from disk, or no body;
 * drains the answer and rejects on any status but 200.
 */
export function presignedRequest(url: string, method: 'PUT' | 'GET' | 'HEAD', body?: Buffer | { file: string }): Promise<void> {
  const length = body === undefined ? undefined : Buffer.isBuffer(body) ? body.length : fs.statSync(body.file).size;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: length !== undefined ? { 'content-length': length } : {} }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${method} ${new URL(url).pathname}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    if (body !== undefined && !Buffer.isBuffer(body)) fs.createReadStream(body.file, { highWaterMark: 1024 * 1024 }).pipe(req);
    else req.end(body);
  });
}
