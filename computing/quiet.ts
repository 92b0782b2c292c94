/**
 * @module The wake alarm of a quiet node: one call of `onWake` before the next callback of any
 * kind runs in this process (a timer, a frame, a control message, a signal, a promise reaction).
 *
 * A quiet node has told its parent it beats no more (protocol/peer-watch.ts): its event loop
 * can only block inside a callback, and none can start without the alarm sending a beat first,
 * so a blocked loop is still found 2 to 3 beat periods later. An async hook is the one place
 * that sees every callback, the failpoint's signal handler included; it is enabled only while
 * the node is quiet, so a working node pays nothing for it.
 */
import { createHook } from 'node:async_hooks';

export class WakeAlarm {
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

  private ring(): void {
    if (!this.armed) return;
    this.disarm();
    // A hook that throws ends the process: report, and let the callback run.
    try {
      this.onWake();
    } catch (error) {
      process.stderr.write(`arbor-node: wake alarm failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}
