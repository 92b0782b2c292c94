#!/usr/bin/env node
// The `arbor` console (see clients/main.ts), as one file (scripts/bundle.js); `npm run build` produces dist/.
import { main } from '../dist/bundle/arbor.js';

void main();
