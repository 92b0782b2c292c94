#!/usr/bin/env node
// The gateway's one-file bundle (scripts/bundle.js); `npm run build` produces dist/.
import '../dist/bundle/gateway.js';
