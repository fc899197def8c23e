/**
 * Stack entry (`main` in Pulumi.yaml): validates the stack's config, failing before any resource
 * is declared, then declares one EnvironmentComponent and exports its outputs: environment,
 * bucketName/Arn, tableName/Arn, successTopicArn, failureTopicArn, dlqUrl/Arn, and in the
 * replicating stack (prod) replicationFunctionArn, replicationRuleArn and replicationDashboardUrl.
 */
import { readStackConfig } from "./lib/config";
import { EnvironmentComponent } from "./lib/environment-component";

const config = readStackConfig();
const pipeline = new EnvironmentComponent("pipeline", { config });

export = pipeline.outputs();
