/**
 * @module The text of the console's `help` command. Pure.
 */
import { MAX_HEARTBEAT_MS, MAX_NODE_ID, MIN_HEARTBEAT_MS } from '../proto/limits.js';
import { COMMAND_WORDS, type HelpTopic } from './command.js';
import { usageOf } from './parse-line.js';

const SUMMARIES: Record<HelpTopic, string> = {
  create: 'start computing node <id>',
  exec: 'store <value> under <name> in node <id>, or load it',
  ping: 'check that node <id> answers',
  heartbeat: 'nodes report every <time> ms (heartbit works too)',
  remove: 'take node <id> out of the tree (its data is gone)',
  keys: "list node <id>'s names (starting with <prefix>) and values",
  del: 'delete <name> from node <id>',
  watch: 'print stores and deletes as they happen (Ctrl-C stops)',
  tree: 'draw the search tree (--json: as one JSON object)',
  status: 'one line: nodes, depth, heartbeat interval, unavailable nodes',
  help: 'this text, or more on one command',
  quit: 'wait for replies in flight, then exit',
};

const DETAILS: Record<HelpTopic, string[]> = {
  create: [
    `start computing node <id> (0 to ${MAX_NODE_ID}) and place it in the search tree;`,
    'prints the new process id. <parent>, when given, must be the node the tree places',
    '<id> under (-1 means no parent given). on <host>: run it on that host (the',
    "gateway's own, or an agent's; see docs/operations.md, Other hosts).",
  ],
  exec: [
    'with <value>: store the signed 64-bit integer <value> under <name> ([A-Za-z0-9]+)',
    'in node <id>; without: load the value stored under <name>.',
  ],
  ping: ['check that node <id> answers; a node that does not exist is an error.'],
  heartbeat: [
    `every node reports every <time> ms (${MIN_HEARTBEAT_MS} to ${MAX_HEARTBEAT_MS}; 0 turns reports off);`,
    'a node silent for 4 x <time> ms is reported unavailable. Also spelled heartbit.',
  ],
  remove: [
    'stop node <id> and delete its data; the tree is relinked as a search-tree deletion does',
    '(the next larger id takes its place) and rebalanced. No other node restarts or loses data.',
    'Works on a node that is unavailable or failed; the id can be created again, empty.',
  ],
  keys: [
    "print every name of node <id> that starts with <prefix> (all without one), in byte order,",
    "one line each as a load prints it (Ok: <id> '<name>' <value>), then Ok: <id> <n> names.",
    'Pages through the node by itself, 10000 names per request.',
  ],
  del: ["delete <name> from node <id>: Ok: <id> '<name>' deleted, or Ok: <id> '<name>' not found."],
  watch: [
    "print every acknowledged store (Watch: <id> '<name>' = <value>) and delete (Watch: <id>",
    "'<name>' deleted) of node <id>, or of every node (no <id>, or *), of the names starting with",
    '<prefix>, in the order each node applied them; commands after it wait until it is in place.',
    'Interactive: until Ctrl-C; piped: until the input ends and the replies are in.',
  ],
  tree: [
    'draw the search tree, root first, each node with its pid; children below their parent,',
    'left (smaller ids) marked L, right (larger ids) marked R:',
    '  8 (pid 4242)',
    '  ├─L 6 (pid 4243)',
    '  └─R 11 (pid 4244) ✗ unavailable',
    "marks: '✗ unavailable' (does not answer now), '✗ failed' (given up after crashing too",
    "often), '✗ exited' (gone, with --restart never), '… starting', '… restarting'; a node whose",
    'process was replaced shows "restarts N". --json prints the tree as one JSON object:',
    '{"root", "heartbeatIntervalMs", "balanced", "nodes": [{"id", "parent", "left", "right", "pid",',
    '"depth", "available", "state", "restarts", "reason"}]}, absent links null. Shows the tree',
    'after every command before it.',
  ],
  status: [
    'one line about the tree, e.g. "nodes 5, depth 2 (AVL bound 2), heartbeat 100 ms, unavailable 0":',
    'the number of nodes, the depth (edges from the root to the deepest node) and, when the',
    'tree is kept balanced, the deepest an AVL tree of that many nodes can be; the heartbeat',
    'interval (or off), and how many nodes do not answer now (failed and exited ones included).',
  ],
  help: ['list the commands, or explain one.'],
  quit: ['stop reading commands, wait for the replies still in flight, and exit.'],
};

/** What differs in the web view's console: there is no program to quit, and the page has more than the console. */
const WEB_QUIT_SUMMARY = 'nothing to quit here: close the page (the gateway keeps running)';
const WEB_QUIT_DETAILS = ['the page has no program to stop: close the tab; the gateway keeps running.'];
const WEB_PAGE_LINES = [
  'Up and Down recall earlier lines. In the drawing: click a node (or Enter on it) for its details,',
  'arrow keys move between nodes, Space collapses a subtree, + - 0 zoom (also wheel, drag, pinch).',
];

/** The help text (several lines, no trailing newline): every command, or one `topic`; `where` the console runs. */
export function helpText(topic?: HelpTopic, where: 'cli' | 'web' = 'cli'): string {
  const details = (t: HelpTopic): string[] => (where === 'web' && t === 'quit' ? WEB_QUIT_DETAILS : DETAILS[t]);
  const summary = (t: HelpTopic): string => (where === 'web' && t === 'quit' ? WEB_QUIT_SUMMARY : SUMMARIES[t]);
  if (topic !== undefined) return [usageOf(topic), ...details(topic).map((line) => `  ${line}`)].join('\n');
  const width = Math.max(...COMMAND_WORDS.map((word) => usageOf(word).length)) + 2;
  return [
    'Commands, one per line; each reply is printed when it arrives:',
    ...COMMAND_WORDS.map((word) => `  ${usageOf(word).padEnd(width)}${summary(word)}`),
    "Lines starting with '#' are ignored. 'help <command>' tells more; Tab completes commands.",
    ...(where === 'web' ? WEB_PAGE_LINES : []),
  ].join('\n');
}
