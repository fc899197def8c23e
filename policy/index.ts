// Entry point of the policy pack: `pulumi preview --policy-pack policy` loads this file (via
// @pulumi/pulumi's run-policy-pack, from the repo root's node_modules). Serves the baseline.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("data-pipeline-baseline", {
  description: "Security baseline of the data pipeline: every rule is mandatory.",
  enforcementLevel: "mandatory",
  policies,
});
