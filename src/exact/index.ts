/** The float64 exact side of the library: distributions, models, quadrature, classifiers. */

export * from "./classification";
export * from "./linear-gaussian";
export * from "./model";
export * from "./mvnormal";
export * from "./nonlinear-toy";
export * from "./quadrature";
