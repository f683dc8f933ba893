/** @module sqliterepo — one SQLite base per container/prefix, every write a numbered operation. */
export * from './base';
export * from './replication';
export * from './etcd-election';
