/**
 * @module arbor: idle RSS of a computing process, read from /proc/<pid>/status for every child
 * of the gateway (the nodes) after they sat idle; the median is the figure.
 */
import { mb } from '../format.js';
import type { Gateway } from '../gateway.js';
import { rssAnonBytes, rssBytes } from '../procfs.js';
import type { Row } from '../rows.js';
import { median } from '../stats.js';

export function nodeRss(gateway: Gateway, idleMs: number): Row {
  const pids = gateway.nodePids();
  const values = pids.map(rssBytes).filter((v): v is number => v !== undefined);
  const mid = median(values);
  const anonymous = median(pids.map(rssAnonBytes).filter((v): v is number => v !== undefined));
  return {
    key: 'nodeRss',
    section: 'arbor',
    value: mb(mid),
    note:
      `median of ${values.length} nodes after ${idleMs} ms idle (min ${mb(Math.min(...values))}, max ${mb(Math.max(...values))}); ` +
      `of which anonymous (RssAnon) ${mb(anonymous)}`,
    figures: { bytes: mid, anonBytes: anonymous, min: Math.min(...values), max: Math.max(...values), nodes: values.length },
  };
}
