export * from './series.ts';
export * from './codec.ts';
export * from './schemas.ts';
export * from './derive.ts';
export * from './promtext.ts';
export * from './rules.ts';
export * from './aggregate.ts';
