/** @module client/remote — one stub per service; method names equal the handler names. */
export * from './conscience';
export * from './meta0';
export * from './meta1';
export * from './account';
export * from './meta2';
export * from './rawx';
export * from './proxy';
export * from './rdir';
