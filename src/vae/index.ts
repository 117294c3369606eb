export * from "./data";
export * from "./config";
export * from "./model";
export * from "./evaluate";
export * from "./checkpoint";
export * from "./trainer";
export * from "./adam";
export * from "./images";
