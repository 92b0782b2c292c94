#!/usr/bin/env node
// The agent that runs computing nodes on another host (see agent/main.ts), as one file (scripts/bundle.js); `npm run build` produces dist/.
import '../dist/bundle/agent.js';
