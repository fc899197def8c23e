/**
 * People hear about failures: one e-mail subscription to the failure topic per address in
 * `alertEmails`, in every stack (each has a failure topic, notified by its alarms). Other
 * protocols (chat, paging) subscribe to the topic's ARN, the `failureTopicArn` output.
 *
 * SNS sends each address a confirmation message; nothing is delivered until the recipient follows
 * its link ("If the endpoint type is HTTP/S or email ... the endpoint owner must run the
 * ConfirmSubscription action", https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html).
 * "Confirmation tokens are valid for two days" (same page). The provider cannot delete a
 * subscription that is still pending: removing an unconfirmed address from config drops it from
 * the stack's state, "but the subscription will still exist in AWS" (@pulumi/aws
 * `sns.TopicSubscription` notes).
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

export interface AlertSubscriptionsArgs {
  /** The failure topic. */
  readonly topic: aws.sns.Topic;
  /** Validated addresses (`StackConfig.alertEmails`). */
  readonly emails: readonly string[];
}

/** Declares one e-mail subscription per address, logical name `<name>-alert-<address>`. */
export function createAlertSubscriptions(
  name: string,
  args: AlertSubscriptionsArgs,
  parent: pulumi.Resource,
): aws.sns.TopicSubscription[] {
  return args.emails.map(
    (address) =>
      new aws.sns.TopicSubscription(
        `${name}-alert-${address}`,
        { topic: args.topic.arn, protocol: "email", endpoint: address },
        { parent },
      ),
  );
}
