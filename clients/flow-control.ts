/**
 * @module When the console may read more input: the one place that bounds its memory.
 *
 * Reading pauses while the session's stream is full (gRPC flow control), while stdout is full,
 * or while too many replies are pending (in flight, or held back by `--ordered`), and resumes
 * when all three have room again. Without this a 100,000-line script piped in would buffer every
 * request and every reply at once.
 */

/** Pause reading at this many replies not yet printed... */
export const MAX_BACKLOG = 10_000;
/** ...and resume once fewer than this many remain, so reading does not stutter per reply. */
export const RESUME_BACKLOG = 5_000;

/** Something with a buffer that can be full. */
export interface Outlet {
  readonly backpressured: boolean;
  whenWritable(): Promise<void>;
}

/** What is watched: the session, the output and the dispatcher's backlog. */
export interface FlowSources {
  session: { readonly writable: boolean; whenWritable(): Promise<void> };
  output: Outlet;
  dispatcher: { readonly backlog: number; whenBacklogBelow(limit: number): Promise<void> };
}

/** True when another command may be read and sent now. */
export function hasRoom({ session, output, dispatcher }: FlowSources): boolean {
  return session.writable && !output.backpressured && dispatcher.backlog < MAX_BACKLOG;
}

/**
 * Resolves when there is room again, or when `signal` aborts (the session was lost or output
 * failed: each source then reports room, so this cannot hang).
 */
export async function waitForRoom(sources: FlowSources, signal: AbortSignal): Promise<void> {
  const { session, output, dispatcher } = sources;
  while (!signal.aborted && !hasRoom(sources)) {
    await session.whenWritable();
    await output.whenWritable();
    if (dispatcher.backlog >= MAX_BACKLOG) await dispatcher.whenBacklogBelow(RESUME_BACKLOG);
  }
}

/** An outlet that is never full (a terminal, written directly). */
export const ALWAYS_OPEN: Outlet = { backpressured: false, whenWritable: () => Promise.resolve() };
