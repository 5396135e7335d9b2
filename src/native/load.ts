/** Loads the native addon (native/*.c, built by node-gyp at install), once; index.ts and fuse.ts type it. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// src/native/load.ts and dist/native/load.js both sit two levels below the package root.
export const loaded: unknown = require('../../build/Release/envmount.node');
