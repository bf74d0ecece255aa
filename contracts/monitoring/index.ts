export * from "./alarms";
export * from "./api";
export * from "./building";
export * from "./csv";
export * from "./datasets";
export * from "./flags";
export * from "./issues";
export * from "./periods";
export * from "./records";
export * from "./time";

/** Broker topics (the Sundaya design's names) and their consumer groups. */
export const monitoringTopic = (dataset: string) => `monitoring.${dataset}`;
export const consumerGroup = (dataset: string) => `group.monitoring.${dataset}`;
/** Where the Producer republishes transformed records when the `publish` flag is on. */
export const transformedTopic = (dataset: string) => `monitoring.${dataset}.dataset`;
export * from "./messages";
