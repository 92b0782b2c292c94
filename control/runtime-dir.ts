/**
 * @module The private directory holding the ipc endpoints of one control: 0700, removed on close.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class RuntimeDir {
  readonly path: string;

  /** Creates a new, unique directory (so a restart after a crash never meets stale sockets). */
  constructor(parent = tmpdir()) {
    this.path = mkdtempSync(join(parent, 'arbor-'));
    chmodSync(this.path, 0o700);
  }

  /**
   * The ipc endpoint of a node in link generation `generation` (each new heartbeat interval is a
   * new one; ids are short, so the path stays far below the ~107-byte limit).
   */
  nodeEndpoint(id: number, generation = 0): string {
    return `ipc://${this.path}/${id}${generation === 0 ? '' : `.${generation}`}`;
  }

  controlEndpoint(generation = 0): string {
    return `ipc://${this.path}/control${generation === 0 ? '' : `.${generation}`}`;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
