import type { AddressInfo } from 'node:net';
import express, { Router } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { routedOnly } from '../src/http/routed-only.js';

/**
 * `routedOnly`: a router a request has no route in is passed by without entering it (a plain
 * express router whose layers run out, an empty one, hands on through `setImmediate`), and every
 * request still reaches the handler it reached before: routes, params, root `use` layers,
 * `next('router')`.
 */

const servers: Array<ReturnType<ReturnType<typeof express>['listen']>> = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.close();
    server.closeAllConnections();
  }
});

async function serve(app: ReturnType<typeof express>): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An app with `routers` mounted (wrapped or not) before a final route that says whether a loop turn passed. */
function appWith(routers: Router[], wrap: boolean) {
  const app = express();
  app.use((req, _res, next) => {
    const marks = { turnPassed: false };
    (req as unknown as { marks: typeof marks }).marks = marks;
    setImmediate(() => {
      marks.turnPassed = true;
    });
    next();
  });
  for (const router of routers) app.use(wrap ? routedOnly(router) : router);
  app.get('/last', (req, res) => {
    res.json({ turnPassed: (req as unknown as { marks: { turnPassed: boolean } }).marks.turnPassed });
  });
  return app;
}

const unrelated = () => {
  const router = Router();
  router.get('/a', (_req, res) => void res.send('a'));
  router.post('/b/:id', (_req, res) => void res.send('b'));
  return router;
};

describe('routedOnly', () => {
  it('passes routers without a route for the path in the same loop turn (an empty plain one takes a turn)', async () => {
    const routers = [unrelated(), Router(), unrelated()];
    const plain = await serve(appWith(routers, false));
    expect(await (await fetch(`${plain}/last`)).json()).toEqual({ turnPassed: true });
    const wrapped = await serve(appWith(routers, true));
    expect(await (await fetch(`${wrapped}/last`)).json()).toEqual({ turnPassed: false });
  });

  it('still enters a router for its routes, params and root middleware, and leaves on next("router")', async () => {
    const withParams = Router();
    withParams.get('/jobs/:id', (req, res) => void res.json({ id: req.params.id }));
    const everywhere = Router();
    everywhere.use((req, res, next) => {
      if (req.get('x-stop') === '1') return void res.status(418).send('stopped');
      next();
    });
    const leaving = Router();
    leaving.get('/leave', (_req, _res, next) => next('router'));
    const app = express();
    for (const router of [withParams, everywhere, leaving]) app.use(routedOnly(router));
    app.get('/leave', (_req, res) => void res.send('after'));
    app.use((_req, res) => void res.status(404).send('none'));
    const url = await serve(app);

    expect(await (await fetch(`${url}/jobs/job_1`)).json()).toEqual({ id: 'job_1' });
    expect((await fetch(`${url}/anything`, { headers: { 'x-stop': '1' } })).status).toBe(418);
    expect(await (await fetch(`${url}/leave`)).text()).toBe('after');
    expect((await fetch(`${url}/jobs`)).status).toBe(404);
    // The wrapper shows the router's stack, as route walkers expect of a router layer.
    expect((routedOnly(withParams) as unknown as { stack: unknown[] }).stack).toHaveLength(1);
  });
});
