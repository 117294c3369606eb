export * from "./bernoulli";
export * from "./distribution";
export * from "./independent";
export * from "./kl";
export * from "./normal";
