import type { RequestHandler, Router } from 'express';

/** What `routedOnly` reads of a router: its layers, each of which says whether it serves a path. */
interface RouterLayers {
  stack: ReadonlyArray<{ match(path: string): unknown }>;
}

/**
 * Mounts the router `routes` so that a request none of its layers serves passes it by at once.
 * Entering an express router costs every request that passes through it (its url bookkeeping,
 * a restoring closure, its own walk of its layers), a dozen times over before `POST /v1/jobs`;
 * and a router whose layers run out (an empty one: `/metrics` before the key check without
 * `METRICS_TOKEN`) hands the request on through `setImmediate`, a turn of the event loop.
 * The test is the router's own path match (a `use` layer at the root matches everything, so
 * such a router is always entered), so which handler answers which request does not change.
 */
export function routedOnly(routes: Router): RequestHandler {
  const { stack } = routes as unknown as RouterLayers;
  // Named `router` and showing the router's stack, as the router itself would, to whatever walks
  // the app's routes (the OpenAPI test lists every registered route that way).
  const handler: RequestHandler = function router(req, res, next) {
    const path = req.path;
    for (const layer of stack) if (layer.match(path)) return routes(req, res, next);
    next();
  };
  return Object.assign(handler, { stack });
}
