/**
 * @module How a node shows that it is alive (the rules are link/liveness.ts): its liveness link
 * to the control, which carries only libzmq's heartbeats (the control pings, libzmq answers, in
 * its I/O thread), and a beat of its JavaScript on the control channel every blockedLoopMs / 3
 * while it has work. Neither depends on the heartbeat interval: for a new one the control
 * rebinds its end and libzmq reconnects the link by itself; this code is not involved.
 *
 * Quiet: a node with nothing to do for `restAfterMs` says so and stops beating. An async hook,
 * enabled only while it is quiet, writes a beat before the next callback of any kind (a frame, a
 * control message, a timer, a signal): an event loop can only block inside a callback, and none
 * can start without a beat first, so a blocked loop is still found 2 to 3 check periods later.
 * An idle tree runs no JavaScript at all: only libzmq's pings go on.
 */
import { createHook } from 'node:async_hooks';
import type { Dealer } from 'zeromq';
import { type ClusterKeys, curveClientOptions, type LivenessClaim, livenessSocket, nodeBeatMs, nodeRoutingId, TCP_NODE_PINGS } from '../link/index.js';

export class Beats {
  private socket: Dealer | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** We said we are quiet; the alarm beats before anything else runs. */
  private quiet = false;
  private readonly alarm = new WakeAlarm(() => this.wakeUp());
  /**
   * Wall-clock ms (`Date.now()`), not monotonicMs: `worked` runs for every frame, and a
   * process.hrtime() per frame was a visible share of a relay's JavaScript. A clock step only
   * moves one rest earlier or later; the wake alarm keeps an early rest safe.
   */
  private lastWorkAt = Date.now();
  private stopped = false;

  constructor(
    private readonly id: number,
    private readonly config: LivenessClaim,
    /** Nothing is on its way in the node (no send queued, no reply awaited). */
    private readonly idle: () => boolean,
    /** Writes a message on the control channel (synchronous: stdout is a pipe). */
    private readonly tell: (msg: { t: 'beat' } | { t: 'quiet' }) => void,
    /** Other hosts: the cluster's keys, for a tcp liveness endpoint. */
    private readonly curve?: ClusterKeys,
  ) {}

  /** Connects the liveness link (for the process's life: it reconnects by itself) and starts beating. */
  start(): void {
    const { endpoint } = this.config;
    // Towards another host: CURVE, and pings of its own (see TCP_NODE_PINGS).
    const tcp = endpoint.startsWith('tcp://') ? { ...(this.curve !== undefined && curveClientOptions(this.curve)), ...TCP_NODE_PINGS } : {};
    this.socket = livenessSocket(nodeRoutingId(this.id, process.pid, 0), tcp);
    this.socket.connect(endpoint);
    this.beatFromNow();
    this.tell({ t: 'beat' });
  }

  /** We had work: no rest for `restAfterMs`. */
  worked(): void {
    this.lastWorkAt = Date.now();
  }

  stop(): void {
    this.stopped = true;
    this.alarm.disarm();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.socket?.close();
    this.socket = null;
  }

  private beatFromNow(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = setInterval(this.beatTick, nodeBeatMs(this.config));
  }

  private readonly beatTick = (): void => {
    if (this.mayRest()) this.rest();
    else this.tell({ t: 'beat' });
  };

  private mayRest(): boolean {
    return !this.quiet && Date.now() - this.lastWorkAt >= this.config.restAfterMs && this.idle();
  }

  /** Tells the control we are quiet and stops beating; the alarm rings before any callback runs. */
  private rest(): void {
    this.tell({ t: 'quiet' });
    this.quiet = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.alarm.arm();
  }

  /** Something is about to run while we are quiet: a beat first, then beats resume. */
  private wakeUp(): void {
    if (!this.quiet || this.stopped) return;
    this.quiet = false;
    this.worked();
    this.tell({ t: 'beat' });
    this.beatFromNow();
  }
}

/**
 * One call of `onWake` before the next callback of any kind runs in this process. An async hook
 * is the one place that sees every callback, the failpoint's signal handler included; it is
 * enabled only while armed, so a working node pays nothing for it.
 */
class WakeAlarm {
  private armed = false;
  private readonly hook = createHook({ before: () => this.ring() });

  constructor(private readonly onWake: () => void) {}

  arm(): void {
    if (this.armed) return;
    this.armed = true;
    this.hook.enable();
  }

  disarm(): void {
    if (!this.armed) return;
    this.armed = false;
    this.hook.disable();
  }

  /** After a ring: the hook goes unless armed again meanwhile. */
  private readonly disableUnlessArmed = (): void => {
    if (!this.armed) this.hook.disable();
  };

  private ring(): void {
    if (!this.armed) return;
    // Disabled after the callback, not in it: Node 20 disabling a hook from inside its own
    // `before` leaves V8's promise hooks installed for the life of the process, so every
    // promise after a node's first rest (two per frame on each link) paid for a hook nobody had.
    this.armed = false;
    queueMicrotask(this.disableUnlessArmed);
    // A hook that throws ends the process: report, and let the callback run.
    try {
      this.onWake();
    } catch (error) {
      process.stderr.write(`arbor-node: wake alarm failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}
