/**
 * Stack entry (`main` in Pulumi.yaml): validates the stack's config, failing before any resource
 * is declared, then declares one EnvironmentComponent and exports its outputs.
 */
import { readStackConfig } from "./lib/config";
import { EnvironmentComponent } from "./lib/environment-component";

const config = readStackConfig();
const pipeline = new EnvironmentComponent("pipeline", { config });

export const environment = pipeline.environment;
export const bucketName = pipeline.bucketName;
export const bucketArn = pipeline.bucketArn;
export const tableName = pipeline.tableName;
export const tableArn = pipeline.tableArn;
export const successTopicArn = pipeline.successTopicArn;
export const failureTopicArn = pipeline.failureTopicArn;
export const dlqUrl = pipeline.dlqUrl;
export const dlqArn = pipeline.dlqArn;
/** Replicating stack (prod) only; undefined elsewhere, so not exported there. */
export const replicationFunctionArn = pipeline.replicationFunctionArn;
/** Replicating stack (prod) only. */
export const replicationRuleArn = pipeline.replicationRuleArn;
