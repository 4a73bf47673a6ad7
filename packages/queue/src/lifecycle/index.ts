export {
  createJobLifecycle,
  type JobEnd,
  type JobLifecycle,
  type JobLifecycleDeps,
  type OutcomeFields,
  TERMINAL_EVENTS,
} from './job-lifecycle.js';
