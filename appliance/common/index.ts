/** @module common — leaf layer: errors, config, log, naming, units, clock, http kit. */
export * from './errors';
export * from './config';
export * from './log';
export * from './naming';
export * from './units';
export * from './clock';
export * from './http';
export * from './chunk-meta';
export * from './tls-cert';
export * from './chunk-file';
