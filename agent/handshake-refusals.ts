/**
 * @module When the agent stops trying a gateway that refuses its key.
 *
 * The agent's DEALER reports each CURVE handshake on its socket's monitor (zeromq.js
 * `socket.events`). A gateway holding another cluster's keys cannot read the agent's greeting and
 * drops the connection: `handshake:error:other` on the agent's side, and libzmq connects again.
 * Refused by the gateway's ZAP handler (`handshake:error:auth`) or by a mechanism mismatch
 * (`handshake:error:protocol`, a listener that is not a CURVE server), libzmq does not try again
 * at all. A wrong key never becomes right by waiting, but one failed handshake may be a connection
 * cut while it was made: so the agent gives up after REFUSAL_LIMIT failures in a row (a handshake
 * that succeeds starts the count again), and at once when libzmq itself gives up.
 */

/** Failed handshakes in a row after which the agent exits (code 2). */
export const REFUSAL_LIMIT = 5;

/** The count of refusals in a row after monitor event `type`, given `count` before it. */
export function refusalsAfter(count: number, type: string): number {
  switch (type) {
    case 'handshake':
      return 0;
    case 'handshake:error:other':
      return count + 1;
    case 'handshake:error:auth':
    case 'handshake:error:protocol':
      return Math.max(count + 1, REFUSAL_LIMIT);
    default:
      return count;
  }
}
