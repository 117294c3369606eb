export * from "./distribution";
export * from "./normal";
export * from "./independent";
export * from "./bernoulli";
export * from "./kl";
