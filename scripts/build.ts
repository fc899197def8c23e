/** `npm run build`: writes the replication bundle (the bytes the program deploys) to dist/replication/index.js. */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { bundleReplication } from "../lib/bundle";

const outFile = path.join(__dirname, "..", "dist", "replication", "index.js");
mkdirSync(path.dirname(outFile), { recursive: true });
const code = bundleReplication();
writeFileSync(outFile, code);
console.log(`wrote ${path.relative(process.cwd(), outFile)} (${Buffer.byteLength(code)} bytes)`);
