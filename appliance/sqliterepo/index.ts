/** @module sqliterepo — one SQLite base per container/prefix, every write a numbered operation. */
export * from './base';
