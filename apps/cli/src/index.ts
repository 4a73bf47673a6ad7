export { run } from './cli.js';
export type { Io } from './io.js';
