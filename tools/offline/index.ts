/** Offline Pulumi: the one mocks implementation, the stack config reader and the plan runner. */
export * from "./mocks";
export * from "./plan";
export * from "./stack-config";
