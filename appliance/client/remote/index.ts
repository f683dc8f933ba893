/** @module client/remote — one stub module per service (method names = handler names). */
export * from './conscience';
export * from './rawx';
