/** @module common/config — the one schema and its loader. */
export * from './schema';
export * from './loader';
export * from './volumes';
