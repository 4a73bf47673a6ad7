export { createGrantDispatcher, type GrantDispatcher } from './dispatcher.js';
export { createGrantWaiter, type GrantWaiter, type GrantWaiterOptions } from './grant-waiter.js';
export { CLASSES, schedulerKeys, tenantLeaseMember } from './keys.js';
export {
  createScheduledQueue,
  type FairEntry,
  type FairQueue,
  fairEntryOf,
  runGrantSweeper,
} from './scheduled-queue.js';
export {
  createScheduler,
  type DispatchEntry,
  decayedRate,
  type GrantResult,
  type QueuePlace,
  type Scheduler,
  type SchedulerOptions,
  type Ticket,
} from './scheduler.js';
