import type { GrantResult, Scheduler, Ticket } from './scheduler.js';

/** What one admission gets back from a shared call: the dispatched entries it is to deliver. */
export type AdmitShare = Pick<GrantResult, 'dispatched'>;

interface Waiting {
  ticket: Ticket;
  resolve(share: AdmitShare): void;
  reject(err: unknown): void;
}

/**
 * Single-ticket admissions made in one tick (concurrent submits whose previous step answered in
 * the same read) share one scheduler script call: the tickets are queued in call order, then the
 * grant and prefetch run once for all of them instead of once each. Each caller gets back what
 * it must deliver to BullMQ: its own job if it was dispatched, and the first caller also every
 * job of other tenants' or earlier admissions this grant dispatched (as a lone admission hands
 * over whatever its grant dispatched). Errors stay per request: when a shared call fails, each
 * ticket is admitted again on its own (admission is idempotent per lease) and gets its own outcome.
 */
export function createAdmitCoalescer(scheduler: Pick<Scheduler, 'admit'>) {
  let gathering: Waiting[] | undefined;

  const alone = async ({ ticket, resolve, reject }: Waiting) => {
    try {
      resolve(await scheduler.admit([ticket]));
    } catch (err) {
      reject(err);
    }
  };

  const flush = async () => {
    const group = gathering ?? [];
    gathering = undefined;
    if (group.length === 1) return alone(group[0]!);
    let result: GrantResult;
    try {
      result = await scheduler.admit(group.map((waiting) => waiting.ticket));
    } catch {
      await Promise.all(group.map(alone));
      return;
    }
    const own = new Set(group.map((waiting) => waiting.ticket.jobId));
    const others = result.dispatched.filter((entry) => !own.has(entry.data.jobId));
    group.forEach((waiting, index) => {
      const mine = result.dispatched.filter((entry) => entry.data.jobId === waiting.ticket.jobId);
      waiting.resolve({ dispatched: index === 0 ? [...mine, ...others] : mine });
    });
  };

  return {
    /** Admits `ticket` with whatever other tickets arrive before this tick ends. */
    admit(ticket: Ticket): Promise<AdmitShare> {
      return new Promise((resolve, reject) => {
        if (!gathering) {
          gathering = [];
          // After the microtasks now queued: every request resumed by the same reply joins in.
          process.nextTick(() => void flush());
        }
        gathering.push({ ticket, resolve, reject });
      });
    },
  };
}
