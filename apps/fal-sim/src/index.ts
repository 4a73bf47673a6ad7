export { ConfigError, loadConfig } from './config.js';
export { createFalSim } from './sim.js';
export type {
  FalSim,
  FalSimOptions,
  FaultRule,
  FaultTarget,
  RequestStatus,
  SimConfig,
  SimConfigPatch,
  SimStats,
} from './types.js';
export { SIM_USER_ID, WEBHOOK_HEADERS } from './webhooks.js';
