/** @module client/resolver — meta0/meta1 lookups with a cache. */
export * from './resolver';
export * from './replica-order';
