/** @module `host:port` addresses of the gateway's listeners, split in one place. */

export interface HostPort {
  /** As written, brackets of an IPv6 literal kept (`[::1]`), for printing `host:port` back. */
  host: string;
  /** The host to bind or compare (brackets removed). */
  bare: string;
  port: number;
}

/** Splits at the last colon (IPv6 literals come bracketed). The caller validated the form. */
export function splitHostPort(address: string): HostPort {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  return { host, bare: host.replace(/^\[|\]$/g, ''), port: Number(address.slice(at + 1)) };
}
