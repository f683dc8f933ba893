/** @module common/log — JSON-lines logger. */
export * from './logger';
