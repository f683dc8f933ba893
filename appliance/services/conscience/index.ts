/** @module services/conscience — service registry, scores, bulletin and placement. */
export * from './service';
export * from './backend';
export * from './routes';
