/**
 * @module The package version, for the console (lib/version.ts, shared with the gateway and the agent).
 */
export { packageVersion, versionLine } from '../lib/version.js';
