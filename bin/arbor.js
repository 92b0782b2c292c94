#!/usr/bin/env node
// The `arbor` console (see clients/main.ts); `npm run build` produces dist/.
import { main } from '../dist/clients/main.js';

void main();
