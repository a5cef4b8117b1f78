/** Availability from nginx access logs: log grammar, histograms, SLOs and outlier detection. */
export * from './access-line.ts';
export * from './histogram.ts';
export * from './schema.ts';
export * from './slo.ts';
export * from './outlier.ts';
