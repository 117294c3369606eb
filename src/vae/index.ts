export * from "./adam";
export * from "./checkpoint";
export * from "./config";
export * from "./data";
export * from "./evaluate";
export * from "./images";
export * from "./model";
export * from "./trainer";
