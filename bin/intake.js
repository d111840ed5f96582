#!/usr/bin/env -S node --experimental-strip-types --disable-warning=ExperimentalWarning
// intake runs its TypeScript directly on Node's type stripping: no build step, no loader.
import '../src/cli/main.ts';
