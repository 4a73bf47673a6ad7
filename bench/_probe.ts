import { Redis } from 'ioredis';
import { startBenchStack } from './harness.js';

const stack = await startBenchStack({ simImages: 'prerendered' });
const r = await fetch(`${stack.apiUrl}/v1/jobs`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'flux.2-dev-turbo', prompt: 'tiny 1', size: '512x512', n: 1 }),
});
const job = (await r.json()) as { id: string };
console.log(r.status, job.id);
const redis = new Redis(stack.redis.url);
const h = await redis.hgetall(`{fluxq}:job:${job.id}`);
let total = 0;
for (const [k, v] of Object.entries(h)) {
  console.log(k.padEnd(16), v.length, v);
  total += k.length + v.length;
}
console.log('total chars', total, 'memory', await redis.memory('USAGE', `{fluxq}:job:${job.id}`));
console.log(await redis.hgetall('{fluxq}:sched:tickets'));
console.log(await redis.keys('*'));
await redis.quit();
await stack.close();
