/**
 * `npm run build`: writes the replication bundle (the bytes the program deploys) to
 * dist/replication/index.mjs.
 */
import * as path from "node:path";
import { ensureBundle } from "../common/bundle-file";

const { file, bytes, status } = ensureBundle();
console.log(`${path.relative(process.cwd(), file)}: ${status} (${bytes} bytes)`);
