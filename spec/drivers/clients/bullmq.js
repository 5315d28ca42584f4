'use strict';
// A BullMQ worker as a job runner uses it: waiting on an empty queue (a blocking BZPOPMIN on its
// own connection), then a job arrives and is processed. ioredis may not reconnect: a cut
// connection ends the run. No timeout set here.
const { Queue, Worker } = require('bullmq');
const h = require('./harness');

const { scenario, port, timeoutMs: T, tag } = h.options;
const connection = { host: h.host, port, maxRetriesPerRequest: null, retryStrategy: () => null };

async function main() {
  if (scenario === 'bullmq-idle') {
    const name = `drivers-${tag}`;
    const worker = new Worker(name, async (job) => job.data.n, { connection });
    h.watch(worker, ['error', 'failed', 'ioredis:close', 'closed'], 'worker');
    worker.on('completed', (job, result) => h.ok({ sent: 1, received: result === 1 ? 1 : 0 }));
    await worker.waitUntilReady();
    h.measure(() => undefined);
    await h.sleep(4 * T);
    const queue = new Queue(name, { connection });
    h.watch(queue, ['error', 'ioredis:close'], 'queue');
    await queue.add('job', { n: 1 });
    return undefined;
  }
  throw new Error(`unknown scenario ${scenario}`);
}

main().catch((err) => h.fail(err, 'rejected'));
