/**
 * @module What the page's id boxes (find node, the events' node filter) accept. Pure.
 */

/** Parses an id box: empty (no id: every node) or one id; anything else is a message. */
export function parseNodeFilter(text: string): { id: number | undefined } | { problem: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { id: undefined };
  if (!/^\d{1,10}$/.test(trimmed)) return { problem: `“${trimmed.slice(0, 20)}” is not a node id` };
  return { id: Number(trimmed) };
}
