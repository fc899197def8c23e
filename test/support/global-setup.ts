/**
 * Jest global setup: the offline plans of every stack, made once for the whole run (or found
 * kept from an earlier run of the same sources), for the suites to share.
 */
import { SHARED_PLANS_VARIABLE, ensureSharedPlans } from "./shared-plans";

export default function globalSetup(): void {
  process.env[SHARED_PLANS_VARIABLE] = ensureSharedPlans();
}
