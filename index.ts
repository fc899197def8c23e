/**
 * Stack entry (`main` in Pulumi.yaml): validates the stack's config, failing before any resource
 * is declared, then declares one EnvironmentComponent and exports its outputs: environment,
 * bucketName/Arn, tableName/Arn, successTopicArn, failureTopicArn, dlqUrl/Arn, region, accountId,
 * in the replicating stack (prod) replicationFunctionArn/Name, replicationRuleArn and
 * replicationDashboardUrl, and in a target granting a replicating stack in another account
 * replicationSourceRoleArn and tableKeyArn.
 */
import { readStackConfig } from "./lib/config";
import { EnvironmentComponent } from "./lib/environment-component";

const config = readStackConfig();
const pipeline = new EnvironmentComponent("pipeline", { config });

export = pipeline.outputs();
