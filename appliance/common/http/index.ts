/** @module common/http — internal HTTP server kit and JSON client. */
export * from './server';
export * from './client';
