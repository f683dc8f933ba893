/** @module common/errors — the one error hierarchy and code catalog. */
export * from './codes';
export * from './oio-error';
